"""What the shell hooks cost: the same work inside and outside a session, interleaved, in one run.

    python bench/hooks_bench.py [--rounds N]

Prints three figures:
  builtin-heavy.sh   wall-time ratio of bash bench/builtin-heavy.sh with the session's
                     BASH_ENV against without (goal: at most 1.2x)
  bash -c 'true'     extra milliseconds per start (goal: at most 1 ms)
  zsh -c 'true'      extra milliseconds per start (goal: at most 1 ms)
It fails only when something crashes, never on the numbers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "builtin-heavy.sh"
sys.path.insert(0, str(HERE))
from goals import report  # noqa: E402


def wingman_run() -> str:
    found = Path(sys.executable).parent / "wingman-run"
    return str(found) if found.exists() else (shutil.which("wingman-run") or sys.exit("wingman-run is not installed"))


def session_env(home: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The environment a session gives its shells (BASH_ENV, ZDOTDIR...), read from a real session."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "WINGMAN_")) and k not in ("BASH_ENV", "ZDOTDIR")}
    base.update(WINGMAN_RUNTIME_DIR=str(home / "run"), WINGMAN_AUDIT_LOG=str(home / "audit.jsonl"),
                WINGMAN_CONFIG_DIR=str(home / "config"))
    out = subprocess.run([wingman_run(), "--", "env", "-0"], env=base, capture_output=True, check=True).stdout
    inside = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
    return base, inside


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def compare(argv: list[str], outside: dict, inside: dict, rounds: int) -> tuple[float, float]:
    """Median wall time outside and inside, runs interleaved so that machine noise hits both."""
    out, ins = [], []
    for _ in range(rounds):
        out.append(timed(argv, outside))
        ins.append(timed(argv, inside))
    return statistics.median(out), statistics.median(ins)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        outside, inside = session_env(Path(tmp))
        bash, zsh = shutil.which("bash"), shutil.which("zsh")
        out, ins = compare([bash, str(SCRIPT)], outside, inside, args.rounds)
        report("builtin-heavy.sh", ins / out, 1.2, "x", f"outside {out:.3f}s, inside {ins:.3f}s")
        for name, shell in (("bash", bash), ("zsh", zsh)):
            if not shell:
                print(f"{name} -c 'true'      {name} is not installed")
                continue
            out, ins = compare([shell, "-c", "true"], outside, inside, args.rounds * 10)
            report(f"{name} -c 'true', extra", (ins - out) * 1000, 1, "ms",
                   f"outside {out * 1000:.2f} ms, inside {ins * 1000:.2f} ms")


if __name__ == "__main__":
    main()
