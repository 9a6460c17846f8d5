"""What the session's broker costs, measured the way assistants use a shell, against the same work outside.

    python bench/broker_bench.py [--rounds N]

Every "inside" run uses the environment of one live session (its start-up is
reported on its own, and taken out of the other figures); runs inside and
outside are interleaved, so that machine noise hits both.

  session start-up          wingman-run -- true, against true
  verdict round trip        one hook question from bash over /dev/tcp (goal: median at most 2 ms)
  script, guarded words     a 230-line script with eval, ten rm -f "$f", five git rev-parse (goal: 1.2x)
  script, no guarded words  the same without them (goal: 1.1x)
  4,500-line script         a long script whose first line names true (goal: 1.2x)
  bash -c, 1.5 KB           a long harmless -c string, extra ms inside (goal: at most 5 ms)
  bash -c naming docker     extra ms over a -c string naming nothing (goal: +5 ms)
  30 docker ps              in one bash -c, through the stub (goal: 1.15x the real binary)
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
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from goals import exec_only_stub, report  # noqa: E402

from sandbox.session.child import ChildSession, wingman_run  # noqa: E402

ROUND_TRIP = r'''
exec 2>/dev/null
port=$(<"$WINGMAN_SESSION_DIR/broker.port"); secret=$(<"$WINGMAN_SESSION_DIR/broker.secret")
for ((n = 0; n < COUNT; n++)); do
  start=$EPOCHREALTIME
  exec {fd}<>"/dev/tcp/127.0.0.1/$port"
  printf '%s\0' "$secret" hook 4 bash command "$PWD" 'git status --short' >&"$fd"
  while IFS= read -r -d '' -u "$fd" kind && IFS= read -r -d '' -u "$fd" value; do
    [[ $kind == exit ]] && break
  done
  exec {fd}>&-
  end=$EPOCHREALTIME
  echo $(( (${end/[.,]/} - ${start/[.,]/}) ))
done
'''


def script_text(guarded: bool) -> str:
    """A build-and-check script of the kind assistants write: functions, loops, one eval."""
    lines = ["#!/usr/bin/env bash", "set -eu", 'work=$(mktemp -d)',
             "log() { printf '%s\\n' \"$*\" >/dev/null; }"]
    for i in range(40):
        lines += [f"step_{i}() {{", f"  local n={i} acc=0", "  for ((k = 0; k < 20; k++)); do acc=$((acc + k * n)); done",
                  f"  log step {i} $acc", "}"]
    lines += [f"step_{i}" for i in range(40)]
    lines.append("eval 'log evaluated'")
    for i in range(10):
        lines += [f'f="$work/file{i}"', ': >"$f"', 'rm -f "$f"' if guarded else 'unlink "$f"']
    for _ in range(5):
        lines.append("git rev-parse --is-inside-work-tree >/dev/null 2>&1 || true" if guarded
                     else "test -d . || true")
    lines += [f"log line {i}" for i in range(229 - len(lines))]
    lines.append('rmdir "$work"')
    return "\n".join(lines) + "\n"


def long_script() -> str:
    return "true\n" + "".join(f"x_{i}=$(( {i} * 2 )); : \"$x_{i}\"\n" for i in range(4500))


def timed(argv: list[str], env: dict, cwd: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:  # a refused or broken run would time nothing worth a figure
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-300:]}")
    return elapsed


def interleaved(argv: list[str], outside: dict, inside: dict, rounds: int, cwd: str) -> tuple[float, float]:
    out, ins = [], []
    for _ in range(rounds):
        out.append(timed(argv, outside, cwd))
        ins.append(timed(argv, inside, cwd))
    return statistics.median(out), statistics.median(ins)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    bash = shutil.which("bash")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        outside = {k: v for k, v in os.environ.items()
                   if not k.startswith(("DOCKER_", "WINGMAN_")) and k not in ("BASH_ENV", "ZDOTDIR")}
        outside.update(WINGMAN_RUNTIME_DIR=str(home / "run"), WINGMAN_AUDIT_LOG=str(home / "audit.jsonl"),
                       WINGMAN_CONFIG_DIR=str(home / "config"))
        subprocess.run(["git", "init", "-q", tmp], check=True)

        starts = [timed([wingman_run(), "--", "true"], outside, tmp) for _ in range(args.rounds)]
        bare = [timed(["true"], outside, tmp) for _ in range(args.rounds)]
        print(f"{'session start-up':<28} {statistics.median(starts) * 1000:10.1f} ms  "
              f"(true alone {statistics.median(bare) * 1000:.1f} ms; reported on its own, not a per-command cost)")

        with ChildSession(outside, cwd=tmp) as session:
            inside = session.env
            # The client's part only, as the hook does it: the loop itself runs unhooked.
            unhooked = {k: v for k, v in inside.items() if k not in ("BASH_ENV", "ZDOTDIR")}
            trips = subprocess.run([bash, "-c", ROUND_TRIP.replace("COUNT", "200")], capture_output=True, text=True,
                                   cwd=tmp, env=unhooked).stdout.split()
            micros = sorted(int(t) for t in trips)
            report("verdict round trip", statistics.median(micros) / 1000, 2, "ms",
                   f"p90 {micros[len(micros) * 9 // 10] / 1000:.2f} ms over {len(micros)} questions from bash")

            for label, text, goal in (("script, guarded words", script_text(True), 1.2),
                                      ("script, no guarded words", script_text(False), 1.1),
                                      ("4,500-line script", long_script(), 1.2)):
                path = home / f"{label.split(',')[0].replace(' ', '-')}-{goal}.sh"
                path.write_text(text)
                # A 30 ms script moves by 20% between runs here: ten times the rounds (3 to 8 s) to find its median.
                out, ins = interleaved([bash, str(path)], outside, inside, args.rounds * 10, tmp)
                report(label, ins / out, goal, "x", f"outside {out * 1000:.1f} ms, inside {ins * 1000:.1f} ms")

            plain, named = [], []
            for _ in range(args.rounds * 3):
                plain.append(timed([bash, "-c", "x=dockers; true"], inside, tmp))
                named.append(timed([bash, "-c", "x=docker; true"], inside, tmp))
            report("bash -c naming docker", (statistics.median(named) - statistics.median(plain)) * 1000, 5, "ms",
                   f"extra, inside: {statistics.median(named) * 1000:.2f} ms against "
                   f"{statistics.median(plain) * 1000:.2f} ms")

            # Long -c strings as assistants send them: the hook reads them whole before the first command.
            long_string = "".join(f'x_{i}=$(( {i} * 2 )); : "$x_{i}"\n' for i in range(60))
            out, ins = interleaved([bash, "-c", long_string], outside, inside, args.rounds * 3, tmp)
            report("bash -c, 1.5 KB, no guarded word", (ins - out) * 1000, 5, "ms",
                   f"extra: {ins * 1000:.2f} ms inside against {out * 1000:.2f} ms outside")

            docker = shutil.which("docker", path=outside.get("PATH"))
            if docker:
                loop = "for i in $(seq 30); do docker ps >/dev/null; done"
                floor_dir = home / "floor"
                floor_dir.mkdir()
                exec_only_stub(floor_dir, docker)
                floored = {**outside, "PATH": f"{floor_dir}:{outside.get('PATH', '')}"}
                out, ins, flo = [], [], []
                for _ in range(max(15, args.rounds)):  # a loop moves by 5% from one run to the next here
                    out.append(timed([bash, "-c", loop], outside, tmp))
                    ins.append(timed([bash, "-c", loop], inside, tmp))
                    flo.append(timed([bash, "-c", loop], floored, tmp))
                out, ins, flo = (statistics.median(x) for x in (out, ins, flo))
                report("30 docker ps in one bash -c", ins / out, 1.15, "x",
                       f"outside {out * 1000:.0f} ms, inside {ins * 1000:.0f} ms")
                print(f"{'  bash -p + exec alone':<28} {flo / out:10.3f} x   (no goal: the floor of any bash stub; "
                      f"{flo * 1000:.0f} ms)", flush=True)
            else:
                print("30 docker ps in one bash -c   docker is not installed")


if __name__ == "__main__":
    main()
