"""python -m sandbox.guard SESSION_DIR: serve the session's Docker API guard on SESSION_DIR/docker.sock.

Prints one line `ready` once the socket listens, or exits non-zero with one
line on stderr. It ends with the process that started it (the launcher).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def fail(message: str, status: int = 2) -> None:
    sys.stderr.write(f"wingman-run guard: {message}\n")
    sys.stderr.flush()
    raise SystemExit(status)


def die_with_parent() -> None:
    """The guard must not outlive its session: the launcher's death ends it."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent or parent == 1:
        raise SystemExit(0)


def listen(path: Path) -> socket.socket:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # 0600 from the start: no moment where others could connect
    try:
        listener.bind(str(path))
    finally:
        os.umask(old)
    listener.listen(128)
    return listener


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        fail("usage: python -m sandbox.guard SESSION_DIR")
    from ..session.layout import GUARD_SOCKET
    from ..session.record import Session
    from .endpoints import UnsupportedDaemon, daemon_socket, engine_sockets
    from .peer import peer_pid, pid_chain
    from .proxy import serve
    from .decide import BrokerDecider

    directory = Path(argv[0])
    try:
        session = Session.load(directory)
    except (OSError, ValueError, TypeError) as exc:
        fail(f"no session record in {directory} ({exc})")
    home = os.path.expanduser("~")
    try:
        upstream = daemon_socket(session.docker_env, home)
    except UnsupportedDaemon as exc:
        fail(str(exc))
    try:
        listener = listen(directory / GUARD_SOCKET)
    except OSError as exc:
        fail(f"cannot listen on {directory / GUARD_SOCKET}: {exc.strerror or exc}")
    die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    top = {os.getpid(), os.getppid()}

    def chain(client: socket.socket) -> list[int]:
        pid = peer_pid(client)
        return pid_chain(pid, top) if pid else []

    protected = tuple(engine_sockets(home, os.environ.get("XDG_RUNTIME_DIR"), session.docker_env))
    decide = BrokerDecider(directory)  # before "ready": the session's command starts after it
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    quiet = os.open(os.devnull, os.O_WRONLY)  # nobody reads the guard once it is ready
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    try:
        serve(listener, os.path.realpath(upstream), decide, chain, protected)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
