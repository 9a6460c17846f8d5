"""Name the objects a command touches the way the daemon does: name, id, state.

The human who approves `docker rm db` should see which container that is right
now (id, state, image). This asks the real docker binary with the session's
recorded environment, with a short timeout, and never raises: when the daemon
does not answer, the names are still listed, marked as not inspected.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import Any

from .instruction import Target

INSPECT_TIMEOUT_SECONDS = 3.0
MAX_NAMES = 10
NO_SUCH = "no such"  # the detail of a name the daemon does not know: "no such container"
_INSPECT = {
    "container": ("container", "inspect"),
    "image": ("image", "inspect"),
    "volume": ("volume", "inspect"),
    "network": ("network", "inspect"),
}


def exists(target: Target) -> bool:
    """False only when the daemon said there is no such object (not when it could not be asked)."""
    return not (target.detail or "").startswith(NO_SUCH)


def touched_objects(real_docker: str, docker_env: dict, argv) -> tuple[Target, ...]:
    """The objects a docker argv names, as the daemon reports them now; () when it names none."""
    from ..policy.packs.docker import parse_targets

    try:
        kind, names = parse_targets(list(argv))
    except Exception:
        return ()
    return docker_targets(real_docker, docker_env, kind, names) if names else ()


def docker_targets(real_docker: str, docker_env: dict, kind: str, names: list[str]) -> tuple[Target, ...]:
    try:
        return _docker_targets(real_docker, docker_env, kind, list(names)[:MAX_NAMES])
    except Exception:
        return tuple(Target(kind, str(n), None, "not inspected") for n in list(names)[:MAX_NAMES])


def _docker_targets(real_docker: str, docker_env: dict, kind: str, names: list[str]) -> tuple[Target, ...]:
    if kind not in _INSPECT or not names:
        return ()
    found, problem = _inspect(real_docker, docker_env, [*_INSPECT[kind], "--format", "{{json .}}", "--", *names])
    if problem:
        return tuple(Target(kind, n, None, f"not inspected: {problem}") for n in names)
    targets = []
    for name in names:
        match = next((obj for obj in found if _matches(obj, name)), None)
        if match is None:
            targets.append(Target(kind, name, None, f"{NO_SUCH} {kind}"))
        else:
            targets.append(_describe(kind, name, match, real_docker, docker_env))
    return tuple(targets)


def _inspect(real_docker: str, env: dict, args: list[str]) -> tuple[list[dict], str | None]:
    try:
        # Own process group: on timeout the whole group goes, so no child can hold our pipes open.
        proc = subprocess.Popen([real_docker, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    except OSError as exc:
        return [], f"cannot run {real_docker}: {exc.strerror or exc}"
    try:
        stdout, stderr = proc.communicate(timeout=INSPECT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.communicate()
        return [], f"the daemon did not answer within {INSPECT_TIMEOUT_SECONDS:g} s"
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    objects = []
    for line in result.stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            objects.append(obj)
    # docker exits 1 when some names are missing but still prints the ones it found.
    if not objects and result.returncode and "no such" not in result.stderr.lower():
        first = (result.stderr.strip().splitlines() or ["docker failed"])[0]
        return [], first[:160]
    return objects, None


def _matches(obj: dict, name: str) -> bool:
    obj_name = str(obj.get("Name") or "").lstrip("/")
    obj_id = str(obj.get("Id") or "")
    bare_id = obj_id.split(":", 1)[-1]
    if name in (obj_name, obj_id) or (len(name) >= 4 and (bare_id.startswith(name) or obj_id.startswith(name))):
        return True
    tags = obj.get("RepoTags") or []
    return name in tags or (":" not in name and f"{name}:latest" in tags)


def _describe(kind: str, asked: str, obj: dict, real_docker: str, env: dict) -> Target:
    details: list[str] = []
    if kind == "container":
        name = str(obj.get("Name") or asked).lstrip("/")
        state = _get(obj, "State", "Status")
        if state:
            details.append(f"state {state}")
        image = _get(obj, "Config", "Image")
        if image:
            details.append(f"image {image}")
        mounts = [m.get("Name") for m in obj.get("Mounts") or [] if isinstance(m, dict) and m.get("Name")]
        if mounts:
            details.append("volumes " + ", ".join(mounts[:5]))
        return Target(kind, name, obj.get("Id"), "; ".join(details) or None)
    if kind == "image":
        tags = obj.get("RepoTags") or []
        if tags:
            details.append("tags " + ", ".join(tags[:5]))
        size = obj.get("Size")
        if isinstance(size, (int, float)):
            details.append(f"size {size / 1e6:.1f} MB")
        return Target(kind, asked, obj.get("Id"), "; ".join(details) or None)
    if kind == "volume":
        name = str(obj.get("Name") or asked)
        if obj.get("Driver"):
            details.append(f"driver {obj['Driver']}")
        users, _ = _inspect(real_docker, env, ["ps", "-a", "--filter", f"volume={name}", "--format", "{{json .}}"])
        user_names = [str(u.get("Names")) for u in users if u.get("Names")]
        details.append("used by " + ", ".join(user_names[:5]) if user_names else "used by no container")
        return Target(kind, name, None, "; ".join(details))
    if kind == "network":
        name = str(obj.get("Name") or asked)
        if obj.get("Driver"):
            details.append(f"driver {obj['Driver']}")
        attached = obj.get("Containers") or {}
        if isinstance(attached, dict):
            details.append(f"{len(attached)} running containers attached")
        return Target(kind, name, obj.get("Id"), "; ".join(details) or None)
    return Target(kind, asked, obj.get("Id"), None)


def _get(obj: dict, *path: str) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj
