"""Run a child process with its status passed back the way a shell reports it."""

from __future__ import annotations

import os
import signal
import subprocess

FORWARDED = (signal.SIGTERM, signal.SIGHUP)


def shell_status(returncode: int) -> int:
    """Popen's -N for a signal death becomes 128+N, as a shell says it."""
    return 128 - returncode if returncode < 0 else returncode


def run_forwarding(argv: list[str], env: dict[str, str], *, ignore_interrupt: bool = True) -> int:
    """Run argv and wait; TERM and HUP are passed on; Ctrl-C reaches the child from the terminal."""
    child = subprocess.Popen(argv, env=env)
    previous = {sig: signal.signal(sig, lambda s, _f: _pass_on(child, s)) for sig in FORWARDED}
    if ignore_interrupt:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        while True:
            try:
                return shell_status(child.wait())
            except InterruptedError:
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _pass_on(child: subprocess.Popen, sig: int) -> None:
    pass_on(child.pid, sig)


def pass_on(pid: int, sig: int) -> None:
    """Signal the session's command: through the isolation wrapper, which ignores signals, to what it runs."""
    for target in _through_wrappers(pid):
        try:
            os.kill(target, sig)
        except ProcessLookupError:
            pass


# The isolation wrapper's processes (outside the sandbox, and its init inside).
_WRAPPERS = frozenset({"bwrap"})


def _through_wrappers(pid: int, depth: int = 0) -> list[int]:
    if depth > 4 or _name(pid) not in _WRAPPERS:
        return [pid]
    children = _children(pid)
    if not children:
        return [pid]
    return [target for child in children for target in _through_wrappers(child, depth + 1)]


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(word) for word in handle.read().split()]
    except (OSError, ValueError):
        return []


def die_like(status: int) -> None:
    """End this process the way the child ended: by the same signal when it was killed."""
    if status > 128 and (status - 128) in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        sig = status - 128
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    raise SystemExit(status)
