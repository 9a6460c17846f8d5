"""Start the session's command: under a pty when the user is at a terminal, plainly otherwise.

Under a pty the launcher relays bytes itself instead of using pexpect's
`interact`, which stops reading as soon as the child is gone and so drops
whatever the child wrote just before it exited. Here the pty is drained until
the kernel reports end of file, then the status is collected.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import shutil
import signal
import struct
import sys
import termios
import time
import tty

from .runner import FORWARDED, pass_on, run_forwarding, shell_status

CHUNK = 65536
# Once the child has exited, a background process it left may still hold the
# pty open: no end of file comes then, and the relay stops when the pty has
# been quiet this long, or this long after the exit at most.
QUIET_AFTER_EXIT = 0.5
LONGEST_AFTER_EXIT = 5.0


def resolve_command(name: str, path_value: str) -> str | None:
    if "/" in name:
        return name if os.path.exists(name) else None
    return shutil.which(name, path=path_value)


def at_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def run(argv: list[str], env: dict[str, str], *, use_pty: bool | None = None) -> int:
    """Run argv in the session; returns its exit status as a shell reports it (128+N for signal N).

    use_pty: None decides by whether the user is at a terminal."""
    if use_pty if use_pty is not None else at_terminal():
        return run_in_pty(argv, env)
    # No terminal (agents, CI, pipes): stdin, stdout and stderr pass through untouched.
    # Ctrl-C at the terminal reaches the command itself (same process group); the launcher,
    # which holds the session's broker, stays to the end.
    return run_forwarding(argv, env, ignore_interrupt=True)


def run_in_pty(argv: list[str], env: dict[str, str], *, stdin_fd: int = 0, stdout_fd: int = 1) -> int:
    """Run argv on a new pty whose other side this process relays to stdin_fd/stdout_fd."""
    master, slave = os.openpty()
    _copy_terminal(stdin_fd, slave)
    pid = os.fork()
    if pid == 0:  # the child: as little as possible between fork and exec
        try:
            os.close(master)
            os.login_tty(slave)
            os.execve(argv[0], argv, env)
        except OSError as error:
            os.write(2, f"wingman-run: {argv[0]}: {error.strerror}\r\n".encode())
            os._exit(126 if error.errno in (errno.EACCES, errno.ENOEXEC) else 127)
        os._exit(127)
    os.close(slave)
    return _Relay(pid, master, stdin_fd, stdout_fd).run()


def _copy_terminal(source: int, target: int) -> None:
    """The user's terminal modes and size on the new pty, as `script` does."""
    if not os.isatty(source):
        return
    try:
        termios.tcsetattr(target, termios.TCSANOW, termios.tcgetattr(source))
    except termios.error:
        pass
    _copy_size(source, target)


def _copy_size(source: int, target: int) -> None:
    try:
        size = fcntl.ioctl(source, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)
    except OSError:
        pass


class _Relay:
    """Copies keystrokes to the pty and its output back until end of file; passes signals on."""

    def __init__(self, pid: int, master: int, stdin_fd: int, stdout_fd: int):
        self.pid, self.master, self.stdin_fd, self.stdout_fd = pid, master, stdin_fd, stdout_fd
        self.status: int | None = None
        self.exited_at: float | None = None
        self.pending = b""  # typed input the child has not taken yet
        self.wake_read, self.wake_write = os.pipe()
        for fd in (self.wake_read, self.wake_write, master):
            os.set_blocking(fd, False)

    def run(self) -> int:
        saved_modes = self._raw_stdin()
        previous = self._install_handlers()
        try:
            self._relay()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if saved_modes is not None:
                termios.tcsetattr(self.stdin_fd, termios.TCSADRAIN, saved_modes)
            for fd in (self.master, self.wake_read, self.wake_write):
                os.close(fd)
        if self.status is None:
            _, raw = os.waitpid(self.pid, 0)
            self.status = shell_status(os.waitstatus_to_exitcode(raw))
        return self.status

    def _raw_stdin(self):
        # Keystrokes, Ctrl-C included, go to the child's terminal as typed.
        if not os.isatty(self.stdin_fd):
            return None
        saved = termios.tcgetattr(self.stdin_fd)
        tty.setraw(self.stdin_fd, termios.TCSANOW)
        return saved

    def _install_handlers(self) -> dict:
        # Handlers only note what happened and wake the loop; the loop does the work.
        previous = {signal.SIGCHLD: signal.signal(signal.SIGCHLD, self._wake)}
        previous[signal.SIGWINCH] = signal.signal(signal.SIGWINCH, self._resize)
        # The child has a session of its own: a signal sent to this process reaches it only
        # through here. (Ctrl-C typed at the terminal arrives as a byte and goes to the pty.)
        for sig in (*FORWARDED, signal.SIGINT):
            previous[sig] = signal.signal(sig, self._pass_on)
        return previous

    def _wake(self, _sig, _frame) -> None:
        try:
            os.write(self.wake_write, b"x")
        except BlockingIOError:
            pass

    def _resize(self, _sig, _frame) -> None:
        if os.isatty(self.stdin_fd):
            _copy_size(self.stdin_fd, self.master)

    def _pass_on(self, sig, _frame) -> None:
        if self.status is None:
            pass_on(self.pid, sig)

    def _reap(self) -> None:
        if self.status is not None:
            return
        pid, raw = os.waitpid(self.pid, os.WNOHANG)
        if pid == self.pid:
            self.status = shell_status(os.waitstatus_to_exitcode(raw))
            self.exited_at = time.monotonic()

    def _relay(self) -> None:
        reading_stdin = True
        last_output = time.monotonic()
        while True:
            self._reap()
            if self.exited_at is not None:
                now = time.monotonic()
                quiet_since = max(last_output, self.exited_at)
                if now - quiet_since >= QUIET_AFTER_EXIT or now - self.exited_at >= LONGEST_AFTER_EXIT:
                    return  # the child is gone and something else holds the pty open
                timeout = QUIET_AFTER_EXIT
            else:
                timeout = 1.0  # SIGCHLD wakes the loop sooner; this is only a safety net
            readers = [self.master, self.wake_read] + ([self.stdin_fd] if reading_stdin else [])
            writers = [self.master] if self.pending else []
            ready, writable, _ = select.select(readers, writers, [], timeout)
            if self.wake_read in ready:
                _drain(self.wake_read)
            if self.master in ready:
                try:
                    data = os.read(self.master, CHUNK)
                except BlockingIOError:
                    data = None
                except OSError as error:
                    if error.errno != errno.EIO:
                        raise
                    data = b""  # Linux: every holder of the other side has closed it
                if data == b"":
                    return
                if data:
                    _write_all(self.stdout_fd, data)
                    last_output = time.monotonic()
            if reading_stdin and self.stdin_fd in ready:
                try:
                    typed = os.read(self.stdin_fd, CHUNK)
                except OSError:
                    typed = b""  # the user's terminal hung up
                if typed:
                    self.pending += typed
                else:
                    reading_stdin = False
            if self.master in writable and self.pending:
                try:
                    written = os.write(self.master, self.pending)
                    self.pending = self.pending[written:]
                except BlockingIOError:
                    pass
                except OSError:
                    self.pending = b""  # the child's side is gone; nobody will read it


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]
