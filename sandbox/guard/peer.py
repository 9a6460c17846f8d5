"""Who is calling: the process chain behind a connection to the guard, as the session's PID namespace numbers it.

The broker knows the session's processes by the pids they see (the stub
reports `$$` from inside an isolated session), so the guard reports the
caller and its ancestors in the caller's own namespace, up to the session's
top (where the namespace ends, or the launcher that started the guard).
"""

from __future__ import annotations

import os
import socket
import struct

MAX_DEPTH = 64


def peer_pid(sock: socket.socket) -> int | None:
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    pid, _uid, _gid = struct.unpack("3i", creds)
    return pid or None


def _status(pid: int) -> tuple[int, int] | None:
    """(parent pid as the guard sees it, pid inside the process's own namespace)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    ppid = inner = None
    for line in text.splitlines():
        if line.startswith(b"PPid:"):
            ppid = int(line.split()[1])
        elif line.startswith(b"NSpid:"):
            inner = int(line.split()[-1])
    if ppid is None or inner is None:
        return None
    return ppid, inner


def _namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def pid_chain(pid: int, stop_at: set[int]) -> list[int]:
    """The caller and its ancestors, innermost first, as numbered in the caller's PID namespace."""
    namespace = _namespace(pid)
    chain: list[int] = []
    while pid > 1 and pid not in stop_at and len(chain) < MAX_DEPTH:
        if _namespace(pid) != namespace:
            break
        found = _status(pid)
        if found is None:
            break
        ppid, inner = found
        chain.append(inner)
        if inner == 1:
            break  # the namespace's first process: the session's top
        pid = ppid
    return chain
