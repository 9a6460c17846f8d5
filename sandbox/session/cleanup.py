"""Session directories: removed once nothing needs them, listed, pruned.

A directory is still needed while any process has its working directory,
executable or an open file in it, or carries it as WINGMAN_SESSION_DIR in its
environment (a background job the session left running will still call the
stubs). That is read from /proc; where there is none (macOS), the directory is
kept and `wingman-sandbox sessions --prune` removes it once its broker is gone.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from .layout import APPROVAL_LEDGER, BROKER_SECRET, BROKER_SOCKET, SESSION_FILE
from .record import runtime_root


def users(directory: str | os.PathLike, exclude: set[int] = frozenset()) -> list[int] | None:
    """Pids of processes that still use the directory; None when this system cannot tell (keep it)."""
    directory = os.path.realpath(directory)
    inside = directory + os.sep
    marker = f"WINGMAN_SESSION_DIR={directory}".encode()
    if not os.path.isdir("/proc/self/fd"):
        return None
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        base = f"/proc/{entry}"
        try:
            links = [os.readlink(f"{base}/cwd"), os.readlink(f"{base}/exe")]
            links += [os.readlink(f"{base}/fd/{fd}") for fd in os.listdir(f"{base}/fd")]
        except OSError:
            links = []  # gone, or not ours to read
        try:
            with open(f"{base}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
        except OSError:
            environ = []
        if any(link == directory or link.startswith(inside) for link in links) or marker in environ:
            found.append(int(entry))
    return found


def remove(directory: str | os.PathLike) -> None:
    """Remove it, the read-only parts the session made included."""
    def writable(func, path, _exc):
        os.chmod(os.path.dirname(path), stat.S_IRWXU)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
        func(path)

    shutil.rmtree(directory, onerror=writable)


def remove_if_unused(directory: str | os.PathLike) -> bool:
    """At the session's end: remove the directory unless something still uses it. True when removed.

    A session that filed approval requests keeps its record and ledger (`wingman-sandbox approvals
    --session ID` reads them); stubs, hooks, sockets and keys go. `sessions --prune` removes the rest."""
    pids = users(directory, exclude={os.getpid()})
    if pids is None or pids:
        return False
    directory = Path(directory)
    try:
        if not (directory / APPROVAL_LEDGER).exists():
            remove(directory)
            return True
        for entry in directory.iterdir():
            if entry.name in (APPROVAL_LEDGER, SESSION_FILE):
                continue
            if entry.is_dir() and not entry.is_symlink():
                remove(entry)
            else:
                entry.unlink()
    except OSError:
        return False
    return True


def broker_answers(directory: Path) -> bool:
    from ..broker.protocol import ask

    try:
        secret = (directory / BROKER_SECRET).read_text().strip()
        return ask(str(directory / BROKER_SOCKET), secret, "ping").status == 0
    except (OSError, ValueError):
        return False


@dataclass
class SessionDir:
    id: str
    path: Path
    created: float
    live: bool          # its broker answers: the launcher still runs
    users: list[int] | None


def sessions() -> list[SessionDir]:
    root = runtime_root() / "sessions"
    out = []
    for path in sorted(root.glob("*")) if root.is_dir() else []:
        if not path.is_dir():
            continue
        try:
            created = path.stat().st_mtime
        except OSError:
            continue
        out.append(SessionDir(path.name, path, created, broker_answers(path), users(path)))
    return out
