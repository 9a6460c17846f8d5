"""Start the session's guard process from the launcher and wait for its `ready` line."""

from __future__ import annotations

import os
import select
import subprocess
import sys

from ..session.record import Session

READY_SECONDS = 15.0


class GuardStartError(Exception):
    """The guard did not come up; the text is its one line, or what went wrong."""


# The broker's token for the guard alone, handed over in the guard's environment (outside the sandbox).
TOKEN_ENV = "WINGMAN_GUARD_TOKEN"


def spawn_guard(session: Session, environ=os.environ, token: str = "") -> subprocess.Popen:
    """python -m sandbox.guard SESSION_DIR, as a child of the launcher (it dies with it); not yet waited for."""
    env = {k: v for k, v in environ.items() if not k.startswith("DOCKER_")}
    env[TOKEN_ENV] = token
    try:
        return subprocess.Popen([sys.executable, "-m", "sandbox.guard", session.dir], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd="/")
    except OSError as exc:
        raise GuardStartError(f"the Docker API guard cannot start: {exc}") from None


def wait_ready(process: subprocess.Popen) -> subprocess.Popen:
    """The guard once it said `ready`; killed, and its last line raised, when it does not."""
    ready, _, _ = select.select([process.stdout], [], [], READY_SECONDS)
    line = process.stdout.readline() if ready else ""
    if line != "ready\n":
        process.kill()
        _, err = process.communicate()
        why = (err or "").strip().splitlines()
        raise GuardStartError(why[-1] if why else "the Docker API guard did not say it was ready")
    process.stdout.close()
    process.stderr.close()  # the guard says nothing more once ready
    return process


def start_guard(session: Session, environ=os.environ, token: str = "") -> subprocess.Popen:
    return wait_ready(spawn_guard(session, environ, token))


def stop_guard(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
