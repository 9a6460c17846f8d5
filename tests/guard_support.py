"""What the guard and isolation tests share: a session directory, the real guard process, an ordinary user.

Everything here is real: the guard runs as its own process (`python -m
sandbox.guard DIR`) against the real engine, as root or as an ordinary user
in the docker group; the containers are this run's own (run-prefixed names,
the run's label).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import fixtures_engine

REPO = Path(__file__).resolve().parent.parent
USER = "wmguard"
SITE = next((REPO / ".venv" / "lib").glob("python3*/site-packages"), None)


def ensure_user() -> pwd.struct_passwd:
    """An ordinary user in the docker group (created once per machine)."""
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run([shutil.which("useradd", path="/usr/sbin:/sbin") or "useradd", "-m", "-G", "docker", "-s", "/bin/bash", USER], check=True)
        entry = pwd.getpwnam(USER)
    if USER not in grp.getgrnam("docker").gr_mem:
        subprocess.run([shutil.which("usermod", path="/usr/sbin:/sbin") or "usermod", "-aG", "docker", USER], check=True)
    return entry


def user_python() -> tuple[list[str], dict[str, str]]:
    """An interpreter the ordinary user may run, and the path to this checkout and its libraries."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    return [python], {"PYTHONPATH": f"{REPO}:{SITE}"}


RUNUSER = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin") or "runuser"


def as_user(argv: list[str], user: str | None) -> list[str]:
    return [RUNUSER, "-u", user, "--", *argv] if user else argv


def make_session(directory: Path, owner: str | None = None, docker_env: dict | None = None) -> Path:
    """A session directory with a session record, as the launcher writes it."""
    from sandbox.session.record import Session

    directory.mkdir(parents=True, exist_ok=True)
    Session(id=directory.name, dir=str(directory), created=time.time(), cwd="/", project_dir="/",
            assistant="test", host="test", profile_name="default", profile_sources=[], profile={},
            audit_log=str(directory / "audit.jsonl"), python=sys.executable,
            docker_env=docker_env or {"DOCKER_CONTEXT": "default"}).save()
    if owner:
        entry = pwd.getpwnam(owner)
        for path in (directory.parent, directory, *directory.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        directory.parent.chmod(0o755)
    directory.chmod(0o700)
    return directory


class Guard:
    """The real guard process for a session directory."""

    def __init__(self, session_dir: Path, user: str | None = None):
        self.dir = session_dir
        self.user = user
        self.socket = session_dir / "docker.sock"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Guard":
        if self.user:
            python, extra = user_python()
            env = {"PATH": "/usr/bin:/bin", "HOME": pwd.getpwnam(self.user).pw_dir, **extra}
        else:
            python, env = [sys.executable], {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        self.process = subprocess.Popen(as_user([*python, "-m", "sandbox.guard", str(self.dir)], self.user),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd="/")
        line = self.process.stdout.readline()
        if line != "ready\n":
            self.process.kill()
            raise AssertionError(f"the guard did not start: {line!r} {self.process.stderr.read()!r}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> "Guard":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def docker(self, *args: str, user: str | None = None, timeout: float = 60,
               input: str | None = None) -> subprocess.CompletedProcess:
        """The real docker CLI, pointed at the guard."""
        env = {"PATH": "/usr/bin:/bin", "DOCKER_HOST": f"unix://{self.socket}", "HOME": "/tmp"}
        return subprocess.run(as_user([fixtures_engine.DOCKER, *args], user), capture_output=True, text=True,
                              env=env, timeout=timeout, input=input)


def own_container(role: str, *command: str, running: bool = True) -> str:
    """A container of this run, made on the real socket (not through the guard)."""
    name = fixtures_engine.names.unique(role)
    fixtures_engine.docker("rm", "-f", name, check=False)
    fixtures_engine.docker("run", "-d", "--name", name, "--label", fixtures_engine.LABEL, "--network", "none",
                           fixtures_engine.BASE_IMAGE, *(command or ("sleep", "1d")))
    if not running:
        fixtures_engine.docker("stop", "-t", "0", name)
    return name


def state(name: str) -> str | None:
    return fixtures_engine.container_state(name)
