"""A session started in the background, whose environment other programs can run in.

The doctor, the benchmarks and the tests use it to run shells as an
assistant's would: beside a live session, its broker answering.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence

from ..broker.protocol import Reply, ask
from .layout import BROKER_SECRET, BROKER_SOCKET

# The session's command: print its environment, then wait to be ended.
_HOLD = 'env -0; printf "\\n"; exec sleep 86400'


class ChildSessionError(Exception):
    pass


def wingman_run() -> str:
    beside = Path(sys.executable).parent / "wingman-run"
    found = str(beside) if beside.exists() else shutil.which("wingman-run")
    if not found:
        raise ChildSessionError("wingman-run is not installed")
    return found


class ChildSession:
    def __init__(self, env: Mapping[str, str], cwd: str | os.PathLike | None = None,
                 options: Sequence[str] = ()):
        self.process = subprocess.Popen([wingman_run(), *options, "--", "sh", "-c", _HOLD], env=dict(env), cwd=cwd,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        raw = b""
        while not raw.endswith(b"\0\n"):
            chunk = self.process.stdout.read1(65536)
            if not chunk:
                self.process.wait()
                raise ChildSessionError(f"the session did not start: {self.process.stderr.read().decode().strip()}")
            raw += chunk
        self.env = dict(item.split("=", 1) for item in raw[:-2].decode().split("\0") if "=" in item)
        self.dir = Path(self.env["WINGMAN_SESSION_DIR"])
        self.id = self.env["WINGMAN_SESSION"]

    def run(self, argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
        """argv with the session's environment, as a command the assistant started would run."""
        return subprocess.run(list(argv), env=self.env, **kwargs)

    def ask(self, verb: str, *args: str) -> Reply:
        secret = (self.dir / BROKER_SECRET).read_text().strip()
        return ask(str(self.dir / BROKER_SOCKET), secret, verb, *args)

    def broker_requests(self) -> dict[str, int]:
        """How many requests of each verb its broker has answered so far."""
        text = self.ask("stats").first("out")
        return {verb: int(count) for verb, count in (word.split("=") for word in text.split())}

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()

    def __enter__(self) -> "ChildSession":
        return self

    def __exit__(self, *exc) -> None:
        self.end()
