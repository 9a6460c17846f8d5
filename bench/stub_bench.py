"""What the docker stub adds to an allowed call, inside a session and against the bare binary outside.

    python3 bench/stub_bench.py [ROUNDS]

Starts its own wingman-run session (with a throw-away audit log); a helper
inside it times `docker ps` through the stub, through the real binary (both
reach the daemon through the session's guard when the session is isolated),
and through a stub that only starts bash and execs docker (the floor of any
bash stub). Between them, this process times the bare binary outside the
session, on the daemon's own socket. Every round does all four, so machine
noise falls on all of them alike; the figures are ratios of the medians.
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
from goals import exec_only_stub, report  # noqa: E402


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def serve_inside() -> None:
    """In the session: time the call named on each line of stdin, answer with the seconds."""
    session = json.loads((Path(os.environ["WINGMAN_SESSION_DIR"]) / "session.json").read_text())
    stub = shutil.which("docker")
    real = session["real"]["docker"]
    if not stub or stub == real:
        sys.exit("the stub is not first on PATH")
    with tempfile.TemporaryDirectory() as scratch:
        floor = exec_only_stub(Path(scratch), real)
        calls = {"stub": [stub, "ps"], "real": [real, "ps"], "floor": [str(floor), "ps"]}
        print("ready", flush=True)
        for line in sys.stdin:
            print(timed(calls[line.strip()]), flush=True)


def measure(rounds: int) -> None:
    bare = shutil.which("docker")
    if not bare:
        sys.exit("docker is not installed")
    wingman_run = shutil.which("wingman-run") or str(Path(sys.executable).parent / "wingman-run")
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "WINGMAN_AUDIT_LOG": str(Path(scratch) / "audit.jsonl")}
        helper = subprocess.Popen([wingman_run, "--", sys.executable, __file__, "--inside"], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if helper.stdout.readline().strip() != "ready":
            sys.exit(f"the helper inside the session did not start (exit {helper.wait()})")

        def inside(name: str) -> float:
            helper.stdin.write(name + "\n")
            helper.stdin.flush()
            return float(helper.stdout.readline())

        samples: dict[str, list[float]] = {name: [] for name in ("bare", "stub", "real", "floor")}
        try:
            for number in range(rounds + 3):  # the first three warm caches
                times = {"bare": timed([bare, "ps"]), **{name: inside(name) for name in ("stub", "real", "floor")}}
                if number >= 3:
                    for name, seconds in times.items():
                        samples[name].append(seconds)
        finally:
            helper.stdin.close()
            helper.wait()
    b, s, r, f = (statistics.median(samples[name]) for name in ("bare", "stub", "real", "floor"))
    report("docker ps through the stub", s / r, 1.25, "x",
           f"median {s * 1000:.2f} ms against {r * 1000:.2f} ms real, both inside, {rounds} rounds interleaved")
    report("docker ps, stub and guard", s / b, 1.2, "x",
           f"inside through the stub {s * 1000:.2f} ms against the bare binary outside {b * 1000:.2f} ms")
    print(f"{'bash -p + exec alone':<28} {f / r:10.3f} x   (no goal: the floor of any bash stub, inside; "
          f"median {f * 1000:.2f} ms)", flush=True)


def main() -> None:
    if sys.argv[1:] == ["--inside"]:
        serve_inside()
        return
    measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100)


if __name__ == "__main__":
    main()
