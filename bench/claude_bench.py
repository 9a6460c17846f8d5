"""What a session costs real Claude Code: the same scripted conversation outside and inside wingman-run.

    python bench/claude_bench.py [--calls N] [--rounds R]

Claude Code talks to tests/model_api.py, which asks for N Bash calls (`echo K`)
and then answers in text. Each round runs the conversation once outside any
session and once inside `wingman-run`, interleaved so that machine noise hits
both. Prints:
  per Bash call      median of the time from a tool_use leaving the model API to
                     its tool_result arriving, inside minus outside (goal +25 ms)
  to first request   start of the process to Claude Code's first model request,
                     inside minus outside (goal +0.5 s)
  session start-up   `wingman-run -- true` against `true`, on its own (no goal)
and checks that, inside, a destructive command the model asks for is refused
and the refusal reaches the model as the tool's error (exit 1 when not).
The figures never fail the run.
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
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from model_api import ModelApi, assistant_binary, claude_argv, claude_env, claude_home  # noqa: E402

PER_CALL_GOAL_MS = 25.0
FIRST_REQUEST_GOAL_S = 0.5


def show(label: str, value: float, goal: float, unit: str, detail: str = "") -> None:
    """One figure with its goal; the shared helper when there is one."""
    try:
        from goals import report  # bench/goals.py, where present
    except ImportError:
        report = None
    if report is not None:
        try:
            report(label, value, goal, unit, detail)
            return
        except TypeError:
            pass  # a helper with another signature: print our own line
    over = "  OVER GOAL" if value > goal else ""
    print(f"{label:<18} {value:+.1f} {unit}  (goal <= +{goal:g} {unit}){'  ' + detail if detail else ''}{over}")


def wingman_run() -> str:
    found = Path(sys.executable).parent / "wingman-run"
    return str(found) if found.exists() else (shutil.which("wingman-run") or sys.exit("wingman-run is not installed"))


def base_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCKER_", "WINGMAN_")) and k not in ("BASH_ENV", "ZDOTDIR", "ENV")}
    env.update(WINGMAN_RUNTIME_DIR=str(root / "run"), WINGMAN_AUDIT_LOG=str(root / "audit.jsonl"),
               WINGMAN_CONFIG_DIR=str(root / "config"))
    (root / "config").mkdir(parents=True, exist_ok=True)
    return env


def conversation(api: ModelApi, commands: list[str], argv: list[str], env: dict, cwd: Path) -> dict:
    """One run of Claude Code: its latencies per call, and the time to its first model request."""
    api.script(commands)
    started = time.time()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"claude failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")
    turns = api.conversation()
    if not turns:
        sys.exit("claude never asked the model API: " + result.stderr.strip()[-2000:])
    return {"latencies": api.call_latencies(), "first_request": turns[0]["received"] - started,
            "results": api.tool_results()}


def session_startup(env: dict, cwd: Path, rounds: int) -> tuple[float, float]:
    bare, inside = [], []
    for _ in range(rounds):
        for sink, argv in ((bare, ["true"]), (inside, [wingman_run(), "--", "true"])):
            start = time.perf_counter()
            subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
            sink.append(time.perf_counter() - start)
    return statistics.median(bare), statistics.median(inside)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10, help="Bash calls per conversation (at least 8)")
    parser.add_argument("--rounds", type=int, default=5, help="conversations outside and inside, interleaved")
    args = parser.parse_args()
    if not assistant_binary("claude").exists():
        sys.exit(f"Claude Code is not installed at {assistant_binary('claude')}: bash tests/assistants.sh install")
    calls = max(args.calls, 8)
    echoes = [f"echo {k}" for k in range(1, calls + 1)]
    with tempfile.TemporaryDirectory(prefix="claude-bench-") as tmp, ModelApi() as api:
        root = Path(tmp)
        work = root / "work"
        work.mkdir()
        env = claude_env(base_env(root), claude_home(root / "home"), api.url)
        # Harmless even if it ran (no such container), but the policy must refuse it.
        destructive = f"docker rm -f wingman-bench-{os.getpid()}-absent"
        outside_calls, inside_calls, outside_first, inside_first = [], [], [], []
        refusal = None
        conversation(api, echoes[:1], claude_argv(), env, work)  # warm-up: Claude Code's first start in a HOME does more
        for _ in range(args.rounds):
            out = conversation(api, echoes, claude_argv(), env, work)
            ins = conversation(api, echoes + [destructive], [wingman_run(), "--", *claude_argv()], env, work)
            outside_calls += out["latencies"][:calls]
            inside_calls += ins["latencies"][:calls]
            outside_first.append(out["first_request"])
            inside_first.append(ins["first_request"])
            wrong = [r for r in ins["results"][:calls] if r["is_error"] or r["text"].strip() != r["command"][5:]]
            if wrong:
                sys.exit(f"inside the session an echo did not reach the model as its output: {wrong[0]}")
            refusal = ins["results"][-1] if ins["results"] else None
        bare, wrapped = session_startup(env, work, 10)

    out_ms, in_ms = statistics.median(outside_calls) * 1000, statistics.median(inside_calls) * 1000
    print(f"real Claude Code {subprocess.run([str(assistant_binary('claude')), '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"{args.rounds} rounds x {calls} Bash calls")
    show("per Bash call", in_ms - out_ms, PER_CALL_GOAL_MS, "ms", f"median outside {out_ms:.1f} ms, inside {in_ms:.1f} ms")
    out_s, in_s = statistics.median(outside_first), statistics.median(inside_first)
    show("to first request", in_s - out_s, FIRST_REQUEST_GOAL_S, "s", f"median outside {out_s:.2f} s, inside {in_s:.2f} s")
    print(f"session start-up   `wingman-run -- true` {wrapped * 1000:.0f} ms, `true` {bare * 1000:.0f} ms "
          f"(+{(wrapped - bare) * 1000:.0f} ms)")
    refused = bool(refusal and refusal["command"] == destructive and refusal["is_error"]
                   and "refused" in refusal["text"] and "docker.container.rm" in refusal["text"])
    if refused:
        said = next(line for line in refusal["text"].splitlines() if "refused" in line)
        print(f"destructive call   {destructive!r} -> refused; the model read, as the tool's error: {said.strip()}")
    else:
        print(f"destructive call   {destructive!r} -> NOT REFUSED as it should be: {refusal}")
    if not refused:
        sys.exit(1)


if __name__ == "__main__":
    main()
