"""How much the docker stub adds to an allowed call: `docker ps` through the stub and
through the real binary, interleaved in one run, with the ratio of the medians; and,
beside them, a stub that only starts bash and execs docker (the floor of any stub).

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
    with tempfile.TemporaryDirectory() as scratch:
        # The least any bash stub costs: start bash, exec the program. What the stub adds above it
        # is its round trip to the broker.
        floor = Path(scratch) / "docker"
        floor.write_text(f"#!{shutil.which('bash')} -p\nexec {real} \"$@\"\n")
        floor.chmod(0o755)
        calls = {"stub": [stub, "ps"], "real": [real, "ps"], "floor": [str(floor), "ps"]}
        for _ in range(3):  # warm caches
            for argv in calls.values():
                timed(argv)
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(rounds):
            for name, argv in calls.items():
                samples[name].append(timed(argv))
    s, d, f = (statistics.median(samples[name]) for name in ("stub", "real", "floor"))
    report("docker ps through the stub", s / d, 1.25, "x",
           f"median {s * 1000:.2f} ms against {d * 1000:.2f} ms real, {rounds} rounds interleaved")
    print(f"{'bash -p + exec alone':<28} {f / d:10.3f} x   (no goal: the floor of any bash stub; "
          f"median {f * 1000:.2f} ms)", flush=True)


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
