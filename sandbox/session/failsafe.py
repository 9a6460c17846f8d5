"""Fail closed: a guard that breaks refuses the command, with a message, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from .record import Session


def refuse_on_error(main: Callable[[list[str]], None], args: list[str]) -> None:
    try:
        main(args)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug must refuse, not let the command through
        sys.stderr.write(f"wingman-run: refused: the guard failed ({type(exc).__name__}: {exc}); nothing was run.\n"
                         "  Please report this with the command line; `wingman-sandbox check` shows the verdict.\n")
        raise SystemExit(1)


def load_session_or_refuse(session_dir: str, shown: str) -> Session:
    """The session record; without it nothing can be judged, so the command is refused."""
    try:
        return Session.load(Path(session_dir))
    except (OSError, ValueError, TypeError) as exc:
        sys.stderr.write(f"wingman-run: refused: {shown}\n  the session record in {session_dir} cannot be read ({exc});"
                         " start a new session with wingman-run\n")
        raise SystemExit(1)
