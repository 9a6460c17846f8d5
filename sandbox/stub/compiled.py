"""The compiled stub: built from stub.c once per machine where a C compiler is found.

A bash stub starts bash on every docker call (about 2 ms on a small machine,
most of what a stub costs); the compiled one does the same exchange with the
broker without it. Built with $CC (else cc), kept in the user's cache under a
name that is the hash of the source and the compiler; without a compiler, or
when the build fails, sessions write the bash stub.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).with_name("stub.c")
BUILD_SECONDS = 60
# Static first: no dynamic loader on every call (a third of a millisecond here).
_FLAG_SETS = (["-O2", "-static"], ["-O2"])


def compiler(environ=os.environ) -> str | None:
    chosen = environ.get("CC")
    if chosen is not None:
        return shutil.which(chosen)
    return shutil.which("cc")


def build(cache: Path, environ=os.environ) -> Path | None:
    """The compiled stub for this machine, built now if it is not in CACHE; None where it cannot be."""
    if not sys.platform.startswith("linux"):
        return None  # it finds its settings through /proc/self/exe
    cc = compiler(environ)
    if cc is None:
        return None
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source + b"\0" + os.path.realpath(cc).encode()).hexdigest()[:20]
    target = cache / f"stub-{digest}"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    partial = cache / f".stub-{digest}.{os.getpid()}"
    try:
        for flags in _FLAG_SETS:
            done = subprocess.run([cc, *flags, "-o", str(partial), str(SOURCE)], capture_output=True,
                                  timeout=BUILD_SECONDS, check=False)
            if done.returncode == 0 and _runs(partial):
                os.replace(partial, target)  # whole or not at all, whoever builds at the same time
                return target
    except (OSError, subprocess.SubprocessError):
        pass
    with contextlib.suppress(OSError):  # a cache read-only here (inside isolation) has no partial either
        partial.unlink(missing_ok=True)
    return None


def _runs(binary: Path) -> bool:
    """Run where it has no settings, it refuses and says why: it was built for this machine."""
    try:
        done = subprocess.run([str(binary), "ps"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 1 and b"cannot read its settings" in done.stderr
