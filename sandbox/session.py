"""A session: its id, private runtime directory, shims, scrubbed environment and record.

Everything the stubs and hooks need later is recorded here, before the
environment is scrubbed, so that nothing inside the session can change which
daemon they talk to or which policy applies.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

from .profiles import ResolvedProfile

APP = "wingman-run"
SESSION_FILE = "session.json"
STUB_MARK = "# wingman-run stub"
GUARDED_PROGRAMS = ("docker", "docker-compose", "podman")
# DOCKER_CONFIG too: its config.json names the current context, so it can repoint docker.
DOCKER_ENV = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_CONFIG")


def runtime_root() -> Path:
    chosen = os.environ.get("WINGMAN_RUNTIME_DIR")
    if chosen:
        return Path(chosen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        return Path(platformdirs.user_runtime_dir(APP))


@dataclass
class Session:
    id: str
    dir: str
    created: float
    cwd: str
    project_dir: str
    assistant: str
    host: str
    profile_name: str
    profile_sources: list[str]
    profile: dict
    audit_log: str
    python: str
    real: dict[str, str] = field(default_factory=dict)  # program -> real binary path
    docker_env: dict[str, str] = field(default_factory=dict)  # what the stubs give the real docker

    @property
    def path(self) -> Path:
        return Path(self.dir)

    @property
    def shim_dir(self) -> Path:
        return self.path / "bin"

    def save(self) -> None:
        target = self.path / SESSION_FILE
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.chmod(tmp, 0o600)
        tmp.replace(target)

    @classmethod
    def load(cls, directory: Path) -> "Session":
        data = json.loads((Path(directory) / SESSION_FILE).read_text())
        return cls(**data)


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def is_stub(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(256)
    except OSError:
        return False
    return STUB_MARK.encode() in head


def find_real(program: str, path_value: str) -> str | None:
    """The first program of that name on PATH that is not a session stub (sessions may nest)."""
    for directory in path_value.split(os.pathsep):
        candidate = os.path.join(directory or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK) and not is_stub(candidate):
            return os.path.abspath(candidate)
    return None


def recorded_docker_env(environ) -> dict[str, str]:
    """What the user's docker would have used: DOCKER_HOST, else the context in effect.

    The context is pinned by name (DOCKER_CONTEXT=default when none is set)
    so that `docker context use` or another DOCKER_CONFIG inside the session
    cannot move the stubs to another daemon.
    """
    recorded = {k: environ[k] for k in DOCKER_ENV if environ.get(k) and k != "DOCKER_CONTEXT"}
    if "DOCKER_HOST" not in recorded:
        context = environ.get("DOCKER_CONTEXT")
        if not context:
            config_dir = Path(environ.get("DOCKER_CONFIG") or Path(environ.get("HOME", "/")) / ".docker")
            try:
                context = json.loads((config_dir / "config.json").read_text()).get("currentContext")
            except (OSError, ValueError, AttributeError):
                context = None
        recorded["DOCKER_CONTEXT"] = context or "default"
    return recorded


def assistant_name(command: list[str]) -> str:
    return os.path.basename(command[0]) if command else "shell"


def create(profile: ResolvedProfile, command: list[str], environ, cwd: str, audit_log: Path) -> Session:
    sid = new_session_id()
    directory = runtime_root() / "sessions" / sid
    directory.mkdir(parents=True, mode=0o700)
    os.chmod(runtime_root(), 0o700)
    original_path = environ.get("PATH", os.defpath)
    real = {p: r for p in GUARDED_PROGRAMS if (r := find_real(p, original_path))}
    session = Session(
        id=sid, dir=str(directory), created=time.time(), cwd=cwd, project_dir=profile.project_dir,
        assistant=assistant_name(command), host=socket.gethostname(), profile_name=profile.name,
        profile_sources=list(profile.sources), profile=profile.data, audit_log=str(audit_log),
        python=sys.executable, real=real, docker_env=recorded_docker_env(environ),
    )
    session.shim_dir.mkdir(mode=0o700)
    session.save()
    return session


def scrubbed_environment(session: Session, environ, extra_scrub: list[str]) -> dict[str, str]:
    """The child's environment: docker targets and approval keys gone, shims first on PATH."""
    env = {}
    for name, value in environ.items():
        if name in DOCKER_ENV or name in extra_scrub:
            continue
        if name.startswith("WINGMAN_APPROVAL_") and "KEY" in name:
            continue
        env[name] = value
    env["PATH"] = str(session.shim_dir) + os.pathsep + environ.get("PATH", os.defpath)
    env["WINGMAN_SESSION"] = session.id
    env["WINGMAN_SESSION_DIR"] = session.dir
    return env


def bash_supports_fast_path(bash: str) -> bool:
    """The stub's fast path needs bash 5 ($EPOCHREALTIME) and env --default-signal."""
    try:
        probe = subprocess.run(
            [bash, "-c", '[[ -n $EPOCHREALTIME ]] && env --default-signal=INT true'],
            capture_output=True, timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def find_bash() -> str | None:
    return shutil.which("bash")
