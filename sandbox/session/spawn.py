"""Start the session's command: under a pty when the user is at a terminal, plainly otherwise."""

from __future__ import annotations

import os
import shutil
import signal
import sys

from .runner import run_forwarding


def resolve_command(name: str, path_value: str) -> str | None:
    if "/" in name:
        return name if os.path.exists(name) else None
    return shutil.which(name, path=path_value)


def at_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def run(argv: list[str], env: dict[str, str]) -> int:
    """Run argv in the session; returns its exit status as a shell reports it."""
    if at_terminal():
        return _run_pty(argv, env)
    # No terminal (agents, CI, pipes): stdin, stdout and stderr pass through untouched.
    return run_forwarding(argv, env, ignore_interrupt=False)


def _run_pty(argv: list[str], env: dict[str, str]) -> int:
    import pexpect

    size = shutil.get_terminal_size()
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(size.lines, size.columns), echo=False)

    def resize(_sig, _frame):
        size = shutil.get_terminal_size()
        if child.isalive():
            child.setwinsize(size.lines, size.columns)

    def pass_on(sig, _frame):
        if child.isalive():
            child.kill(sig)

    previous = {signal.SIGWINCH: signal.signal(signal.SIGWINCH, resize)}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, pass_on)
    try:
        # Keystrokes (Ctrl-C included) go to the child's terminal as typed.
        child.interact(escape_character=None)
    except OSError:
        pass  # the child closed its terminal
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    child.close()
    if child.signalstatus is not None:
        return 128 + child.signalstatus
    return child.exitstatus if child.exitstatus is not None else 1
