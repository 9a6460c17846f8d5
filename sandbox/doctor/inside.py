"""A session whose command runs the doctor's tries from inside it: behind its isolation, where an assistant's
commands run. (ChildSession.run starts programs beside the session, outside its sandbox; the doctor must see
what the guard and bubblewrap do, so its tries go through this runner instead.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence

from ..session.child import ChildSessionError, wingman_run

# The session's command: its environment on the first line, then one JSON answer per JSON request.
_RUNNER = r"""
import json, os, subprocess, sys
print(json.dumps(dict(os.environ)), flush=True)
for line in sys.stdin:
    ask = json.loads(line)
    try:
        done = subprocess.run(ask["argv"], capture_output=True, text=True, timeout=ask["timeout"], cwd=ask["cwd"])
        answer = {"status": done.returncode, "out": done.stdout[-2000:], "err": done.stderr[-2000:]}
    except subprocess.TimeoutExpired:
        answer = {"status": -1, "out": "", "err": "timed out"}
    except OSError as exc:
        answer = {"status": 127, "out": "", "err": str(exc)}
    print(json.dumps(answer), flush=True)
"""


class InsideSession:
    def __init__(self, env: Mapping[str, str], cwd, options: Sequence[str] = ()):
        self.process = subprocess.Popen([wingman_run(), *options, "--", sys.executable, "-I", "-c", _RUNNER],
                                        env=dict(env), cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        first = self.process.stdout.readline()
        if not first:
            self.process.wait()
            raise ChildSessionError(f"the session did not start: {self.process.stderr.read().strip()}")
        self.env = json.loads(first)
        self.dir = Path(self.env["WINGMAN_SESSION_DIR"])
        self.id = self.env["WINGMAN_SESSION"]

    def run(self, argv: Sequence[str], cwd: str | os.PathLike = "/", timeout: float = 15) -> tuple[int, str, str]:
        self.process.stdin.write(json.dumps({"argv": list(argv), "cwd": str(cwd), "timeout": timeout}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise ChildSessionError("the session's runner ended")
        answer = json.loads(line)
        return answer["status"], answer["out"], answer["err"]

    def end(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()
