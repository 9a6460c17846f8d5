"""The compiled stub: built from stub.c once per machine where a C compiler is found.

A bash stub starts bash on every docker call (about 2 ms on a small machine,
most of what a stub costs); the compiled one does the same exchange with the
broker without it. Built with $CC, else musl-gcc where it is installed, else cc;
kept in the user's cache under a name that is the hash of the source and the
compilers; without a compiler, or when every build fails, sessions write the
bash stub.
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


def builds(environ=os.environ) -> list[tuple[str, list[str]]]:
    """(compiler, flags) to try in turn.

    musl first: a static glibc program probes the CPU at every start (cpuid
    traps to the hypervisor on a virtual machine: about 0.4 ms more per call
    here), a musl one does not.
    """
    chosen = environ.get("CC")
    if chosen is not None:
        found = shutil.which(chosen)
        return [(found, flags) for flags in _FLAG_SETS] if found else []
    tries = []
    musl = shutil.which("musl-gcc")
    if musl:
        tries.append((musl, _FLAG_SETS[0]))  # static only: a musl program without it needs musl's loader
    cc = shutil.which("cc")
    if cc:
        tries += [(cc, flags) for flags in _FLAG_SETS]
    return tries


def build(cache: Path, environ=os.environ) -> Path | None:
    """The compiled stub for this machine, built now if it is not in CACHE; None where it cannot be."""
    if not sys.platform.startswith("linux"):
        return None  # it finds its settings through /proc/self/exe
    tries = builds(environ)
    if not tries:
        return None
    source = SOURCE.read_bytes()
    compilers = "\0".join(os.path.realpath(cc) for cc, _ in tries)
    digest = hashlib.sha256(source + b"\0" + compilers.encode()).hexdigest()[:20]
    target = cache / f"stub-{digest}"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    partial = cache / f".stub-{digest}.{os.getpid()}"
    try:
        for cc, flags in tries:
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
