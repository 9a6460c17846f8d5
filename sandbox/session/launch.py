"""Launch a session: record the daemon and the real binaries, create the directory, scrub the environment.

Everything the stubs, hooks and broker need later is recorded here, before
the environment is scrubbed, so that nothing inside the session can change
which daemon they talk to or which policy applies.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import sys
import time
from pathlib import Path

from ..policy.context import DAEMON_VARIABLES
from .layout import STUB_MARK, stub_settings
from .profiles import ResolvedProfile
from .record import GUARDED_PROGRAMS, Session, runtime_root


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def is_stub(path: str) -> bool:
    """A bash stub has the mark in its first line; a compiled one, in the settings beside it."""
    directory, name = os.path.split(path)
    for candidate in (path, os.path.join(directory, stub_settings(name))):
        try:
            with open(candidate, "rb") as handle:
                if STUB_MARK.encode() in handle.read(256):
                    return True
        except OSError:
            continue
    return False


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
    recorded = {k: environ[k] for k in DAEMON_VARIABLES if environ.get(k) and k != "DOCKER_CONTEXT"}
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
        if name in DAEMON_VARIABLES or name in extra_scrub:
            continue
        if name.startswith("WINGMAN_APPROVAL_") and "KEY" in name:
            continue
        env[name] = value
    env["PATH"] = str(session.shim_dir) + os.pathsep + environ.get("PATH", os.defpath)
    env["WINGMAN_SESSION"] = session.id
    env["WINGMAN_SESSION_DIR"] = session.dir
    return env


def find_bash() -> str | None:
    return shutil.which("bash")
