"""wingman-sandbox doctor: every vector tried for real on this machine, per layer and per shell, in one table.

It makes its own throwaway objects, starts a child session per shell with the
profile that applies here (approvals off: nothing reaches a human), runs each
vector in that shell, and looks at what happened: the object unchanged and a
layer's refusal in the audit log (closed), changed and reported by the monitor
(detected-by-monitor), or changed unseen (open). Exit 0 only when every row the
README calls closed is closed here and the safe commands work.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..guard.endpoints import UnsupportedDaemon
from ..monitor.engine import resolve_daemon, ping
from ..monitor.decisions import parse_time
from ..monitor.tail import AuditTail
from ..policy.profile import ProfileError
from ..session.child import ChildSessionError
from ..session.launch import find_real, recorded_docker_env
from ..session.profiles import resolve
from . import environment
from .inside import InsideSession
from .objects import NoImage, Objects, runnable_images
from .vectors import VECTORS, Vector, expected_closed

MONITOR_WAIT = 2.0
TRY_SECONDS = 15


@dataclass
class Row:
    vector: str
    title: str
    example: str
    shell: str
    layer: str
    status: str         # closed, open, detected-by-monitor, works, broken, n/a
    expected: str       # what the README says here: closed, works, detected, -
    ok: bool


def run(opts) -> int:
    started = time.monotonic()
    cwd = Path.cwd()
    try:
        profile = resolve(opts.profile, cwd)
    except ProfileError as exc:
        sys.stderr.write(f"wingman-sandbox doctor: profile error: {exc}\n")
        return 2
    docker_env = recorded_docker_env(os.environ)
    try:
        daemon = resolve_daemon(docker_env)
    except UnsupportedDaemon as exc:
        sys.stderr.write(f"wingman-sandbox doctor: {exc}\n")
        return 2
    docker = find_real("docker", os.environ.get("PATH", os.defpath))
    if docker is None or not ping(daemon):
        sys.stderr.write(f"wingman-sandbox doctor: no docker binary, or the daemon at {daemon.describe()} "
                         f"does not answer; nothing to check\n")
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="wingman-doctor-"))
    token = os.urandom(3).hex()
    shells = [s for s in ("bash", "zsh") if shutil.which(s)]
    objects = {s: Objects(docker, daemon, f"wingman-doctor-{token}-{s}") for s in shells}
    children: dict[str, InsideSession] = {}
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        images = runnable_images(daemon)
        for made in objects.values():
            made.make_all(images)
        profile_file = _no_approvals_profile(profile, scratch)
        env = _child_env(scratch)
        _start_children(children, shells, env, cwd, ["--profile", str(profile_file)], scratch)
        first = children[shells[0]]
        isolated = _isolated(first)
        compose = subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
        rows: list[Row] = []
        threads = [threading.Thread(target=_try_all, args=(children[s], s, objects[s], daemon, docker, scratch,
                                                             isolated, compose, rows)) for s in shells]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rows.sort(key=lambda r: ([v.key for v in VECTORS].index(r.vector), r.shell))
        facts = {
            "profile": profile.name, "isolation": "on" if isolated else "off",
            "daemon": environment.daemon_facts(daemon, docker_env),
            "shells": environment.shells(first.env, str(first.dir)),
            "wingman": environment.wingman_facts(profile, os.environ),
            "permissions": environment.permissions(profile, _audit_path(profile)),
        }
    except KeyboardInterrupt:
        sys.stderr.write("wingman-sandbox doctor: interrupted; its objects are removed\n")
        return 130
    except (NoImage, ChildSessionError) as exc:
        sys.stderr.write(f"wingman-sandbox doctor: {exc}\n")
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
        for child in children.values():
            child.end()
        for made in objects.values():
            made.remove_all()
        subprocess.run(["chmod", "-R", "u+w", str(scratch)], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    failing = [r for r in rows if not r.ok]
    seconds = time.monotonic() - started
    if opts.json:
        print(json.dumps({"ok": not failing, "seconds": round(seconds, 1), "environment": facts,
                          "rows": [asdict(r) for r in rows]}))
    else:
        print(render(rows, facts, seconds))
    return 1 if failing else 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _audit_path(profile) -> Path:
    from ..audit import resolve_audit_path

    return resolve_audit_path(profile.audit_path, os.environ)


def _no_approvals_profile(profile, scratch: Path) -> Path:
    """The profile that applies here, with approvals off: the doctor's tries must never reach a human."""
    path = scratch / "doctor-profile.yaml"
    path.write_text(f"extends: {json.dumps(profile.sources[-1])}\napprovals:\n  backend: none\n")
    return path


def _child_env(scratch: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINGMAN_APPROVAL_") and k != "WINGMAN_API_URL"}
    env.pop("WINGMAN_SESSION", None)
    return env


def _start_children(children: dict, shells: list[str], env: dict, cwd: Path, options: list[str],
                    scratch: Path) -> None:
    errors: list[Exception] = []

    def start(shell: str) -> None:
        try:
            # Each shell's session keeps its own audit log: a refusal found there is that shell's.
            children[shell] = InsideSession({**env, "WINGMAN_AUDIT_LOG": str(scratch / f"audit-{shell}.jsonl")},
                                           cwd, options)
        except ChildSessionError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in shells]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _isolated(child: InsideSession) -> bool:
    inside = child.run(["readlink", "/proc/self/ns/mnt"])[1].strip()
    try:
        return bool(inside) and inside != os.readlink("/proc/self/ns/mnt")
    except OSError:
        return False


def _try_all(child: InsideSession, shell: str, objects: Objects, daemon, docker: str, scratch: Path,
             isolated: bool, compose: bool, rows: list) -> None:
    tail = AuditTail([child.env.get("WINGMAN_AUDIT_LOG") or str(scratch / f"audit-{shell}.jsonl")])
    values = {**objects.names(), "label": objects.label, "docker": docker, "docker_dir": os.path.dirname(docker),
              "sock": daemon.unix or "/var/run/docker.sock", "tmp": str(scratch)}
    # The session's monitor reports on the objects the session knows: let it look at them first.
    child.run(["sh", "-c", "docker inspect {c} {p}; docker volume inspect {v}; docker network inspect {n}".format(
        **values)], cwd=scratch)
    tail.read_new()
    for vector in VECTORS:
        if shell not in vector.shells:
            continue
        if vector.needs == "compose" and not compose:
            rows.append(Row(vector.key, vector.title, _shown(vector, values), shell, "-", "n/a",
                            "closed", True))
            continue
        rows.append(_try(child, shell, vector, values, objects, tail, isolated, scratch))


def _try(child, shell, vector: Vector, values: dict, objects: Objects, tail: AuditTail, isolated: bool,
         scratch: Path) -> Row:
    command = vector.example(values)
    before = objects.state(vector.target) if vector.target else None
    tail.read_new()  # what earlier tries and restores left in the log is not this try's
    began = time.time()
    status_code = child.run([shell, "-c", command], cwd=scratch, timeout=TRY_SECONDS)[0]
    shown = _shown(vector, values)
    if vector.target is None:
        ok = status_code == 0
        return Row(vector.key, vector.title, shown, shell, "-", "works" if ok else "broken", "works", ok)
    after = objects.state(vector.target)
    events = tail.read_new()
    refusal = next((e for e in events if e.get("event") == "decision" and e.get("session") == child.id
                    and (e.get("verdict") == "deny" or e.get("exit") == 1
                         or (e.get("verdict") == "ask" and (e.get("approval") or {}).get("status")
                             not in ("APPROVED", "AUTO_APPROVED", "GRANTED")))), None)
    expected = "closed" if expected_closed(vector, isolated) else "detected"
    if after == before:
        status, layer = "closed", (refusal or {}).get("layer", "-")
    else:
        name = values[vector.target]
        seen = _wait_for_report(tail, events, name, began)
        status, layer = ("detected-by-monitor", "monitor") if seen else ("open", "-")
        objects.restore(vector.target)
    ok = status == "closed" or (expected == "detected" and status == "detected-by-monitor")
    return Row(vector.key, vector.title, shown, shell, layer, status, expected, ok)


def _wait_for_report(tail: AuditTail, events: list, name: str, began: float) -> bool:
    deadline = time.monotonic() + MONITOR_WAIT
    while True:
        if any(e.get("event") == "unapproved" and e.get("object") == name
               and (parse_time(e.get("event_time")) or 0) >= began - 0.5 for e in events):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
        events = tail.read_new()


def _shown(vector: Vector, values: dict) -> str:
    """The example as the README shows it: the doctor's object names as `x`, paths as they are."""
    plain = {**values, "c": "x", "p": "x", "v": "x", "n": "x", "project": "x", "label": "wingman-doctor=RUN",
             "tmp": "/tmp", "sock": values["sock"]}
    text = vector.example(plain)
    return text if len(text) <= 60 else text[:57] + "..."


def render(rows: list[Row], facts: dict, seconds: float) -> str:
    head = ("VECTOR", "EXAMPLE", "SHELL", "LAYER", "STATUS")
    table = [head] + [(r.title, r.example, r.shell, r.layer, r.status + ("" if r.ok else "  << README: " + r.expected))
                      for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip()
             for row in table]
    closed = sum(r.status == "closed" for r in rows)
    detected = sum(r.status == "detected-by-monitor" for r in rows)
    opened = sum(r.status == "open" for r in rows)
    failing = [r for r in rows if not r.ok]
    verdict = ("every row the README calls closed is closed here" if not failing else
               f"{len(failing)} row(s) not as the README says: " + ", ".join(f"{r.vector}/{r.shell}" for r in failing))
    daemon = facts["daemon"]
    wingman = facts["wingman"]
    lines += ["", f"{closed} closed, {detected} detected by the monitor, {opened} open, "
                  f"{sum(r.status == 'works' for r in rows)} safe commands work; {verdict} ({seconds:.1f} s)", "",
              f"profile:    {facts['profile']}",
              f"daemon:     {daemon['endpoint']} ({daemon['via']}), docker {daemon['version']} API {daemon['api']}",
              f"tcp:        {', '.join(daemon['tcp_reachable']) or 'no daemon answers on TCP here'}"
              + (" (reachable even behind isolation: a mount namespace cannot hide TCP)" if daemon['tcp_reachable'] else ""),
              f"isolation:  {facts['isolation']}",
              "shells:     " + "; ".join(f"{k} {v}" for k, v in facts["shells"].items()),
              "wingman:    " + _wingman_line(wingman)]
    for what, found in facts["permissions"].items():
        lines.append(f"{what + ':':11} " + _mode_line(found))
    return "\n".join(lines)


def _wingman_line(facts: dict) -> str:
    if not facts.get("configured"):
        return "not configured (ask means deny)"
    if facts.get("problem"):
        return f"{facts.get('url', '')} {facts['problem']}".strip()
    return (f"{facts['url']} {'reachable' if facts.get('reachable') else 'NOT reachable'}; "
            f"request key {facts.get('request_key')}, read key {facts.get('read_key')}")


def _mode_line(found: dict) -> str:
    if not found.get("exists"):
        return f"{found['path']} (none)"
    verdict = "private" if found["private"] and found["owner_is_you"] else "NOT private: chmod go-rwx"
    return f"{found['path']} {found['mode']} {verdict}"


def add_parser(sub) -> None:
    doctor = sub.add_parser("doctor", help="try every vector for real here and say which are closed")
    doctor.add_argument("--profile", help="profile name or path (default: the one that applies here)")
    doctor.add_argument("--json", action="store_true", help="one JSON object")
    doctor.set_defaults(run=run)
