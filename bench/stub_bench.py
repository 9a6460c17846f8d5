"""How much the docker stub adds to an allowed call: `docker ps` through the stub and
through the real binary, interleaved in one run, with the ratio of the medians.

    python3 bench/stub_bench.py [ROUNDS]

Starts its own wingman-run session (with a throw-away audit log) and measures inside it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goals import report  # noqa: E402


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(rounds: int) -> None:
    session = json.loads((Path(os.environ["WINGMAN_SESSION_DIR"]) / "session.json").read_text())
    stub = shutil.which("docker")
    real = session["real"]["docker"]
    assert stub and stub != real, "the stub is not first on PATH"
    for _ in range(3):  # warm caches
        timed([stub, "ps"]), timed([real, "ps"])
    through_stub, direct = [], []
    for _ in range(rounds):
        through_stub.append(timed([stub, "ps"]))
        direct.append(timed([real, "ps"]))
    s, d = statistics.median(through_stub), statistics.median(direct)
    report("docker ps through the stub", s / d, 1.25, "x",
           f"median {s * 1000:.2f} ms against {d * 1000:.2f} ms real, {rounds} rounds interleaved")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    if os.environ.get("WINGMAN_SESSION_DIR"):
        measure(rounds)
        return
    wingman_run = shutil.which("wingman-run") or str(Path(sys.executable).parent / "wingman-run")
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "WINGMAN_AUDIT_LOG": str(Path(scratch) / "audit.jsonl")}
        status = subprocess.run([wingman_run, "--", sys.executable, __file__, str(rounds)], env=env).returncode
    raise SystemExit(status)


if __name__ == "__main__":
    main()
