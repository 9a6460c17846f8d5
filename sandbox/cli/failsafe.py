"""Fail closed: a guard that breaks refuses the command, with a message, never a traceback."""

from __future__ import annotations

import sys
from typing import Callable


def refuse_on_error(main: Callable[[list[str]], None], args: list[str]) -> None:
    try:
        main(args)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug must refuse, not let the command through
        sys.stderr.write(f"wingman-run: refused: the guard failed ({type(exc).__name__}: {exc}); nothing was run.\n"
                         "  Please report this with the command line; `wingman-sandbox check` shows the verdict.\n")
        raise SystemExit(1)
