"""What the waiting user sees: whole lines on every output, and a live elapsed time.

On a terminal the elapsed time is one line redrawn in place; on a pipe or a log
file it is a line every few seconds, so logs stay readable. Writing never raises:
a closed terminal must not turn a refusal into a crash.
"""

from __future__ import annotations

import os
from typing import TextIO

PIPE_TICK_SECONDS = 10.0


class WaitDisplay:
    def __init__(self, stream: TextIO, tty: TextIO | None = None):
        self._outputs: list[tuple[TextIO, bool]] = []
        stream_is_tty = _isatty(stream)
        self._outputs.append((stream, stream_is_tty))
        if tty is not None and not (stream_is_tty and _same_terminal(stream, tty)):
            self._outputs.append((tty, True))
        self._live_shown = False
        self._last_pipe_tick = 0.0

    def say(self, text: str) -> None:
        """Whole lines, to every output."""
        self._clear_live()
        for out, _ in self._outputs:
            _write(out, text.rstrip("\n") + "\n")

    def tick(self, elapsed: float, what: str) -> None:
        """The live elapsed time."""
        line = f"{what}: waiting {_clock(elapsed)}"
        for out, is_tty in self._outputs:
            if is_tty:
                _write(out, "\r\033[K" + line)
        if any(is_tty for _, is_tty in self._outputs):
            self._live_shown = True
        if elapsed - self._last_pipe_tick >= PIPE_TICK_SECONDS:
            self._last_pipe_tick = elapsed
            for out, is_tty in self._outputs:
                if not is_tty:
                    _write(out, line + "\n")

    def finish(self) -> None:
        self._clear_live()

    def _clear_live(self) -> None:
        if self._live_shown:
            for out, is_tty in self._outputs:
                if is_tty:
                    _write(out, "\r\033[K")
            self._live_shown = False


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


def _write(out: TextIO, text: str) -> None:
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError):
        pass


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (OSError, ValueError, AttributeError):
        return False


def _same_terminal(a: TextIO, b: TextIO) -> bool:
    try:
        sa, sb = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (sa.st_rdev, sa.st_ino, sa.st_dev) == (sb.st_rdev, sb.st_ino, sb.st_dev)
