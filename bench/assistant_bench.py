"""What Claude Code's own hook adds per shell call: the same wingman-run session with and without it.

    python bench/assistant_bench.py [--calls N] [--rounds R]

Both runs are inside wingman-run, with the stubs and shell hooks armed; the one
without the assistant hook starts Claude Code as `env claude ...`, a command
line wingman-run does not recognise as an assistant. Real Claude Code talks to
tests/model_api.py, which asks for N Bash calls (`echo K`). Prints the median
time per Bash call (tool_use out to tool_result in) with and without the hook,
and the difference (goal: at most +25 ms). The figures never fail the run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from claude_bench import base_env, conversation, show, wingman_run  # noqa: E402  (also puts tests/ on sys.path)
from model_api import ModelApi, assistant_binary, claude_argv, claude_env, claude_home  # noqa: E402

GOAL_MS = 25.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10, help="Bash calls per conversation (at least 8)")
    parser.add_argument("--rounds", type=int, default=3, help="conversations with and without, interleaved")
    args = parser.parse_args()
    if not assistant_binary("claude").exists():
        sys.exit(f"Claude Code is not installed at {assistant_binary('claude')}: bash tests/assistants.sh install")
    calls = max(args.calls, 8)
    echoes = [f"echo {k}" for k in range(1, calls + 1)]
    with_hook, without_hook = [], []
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp, ModelApi() as api:
        root = Path(tmp)
        work = root / "work"
        work.mkdir()
        env = claude_env(base_env(root), claude_home(root / "home"), api.url)
        hooked = [wingman_run(), "--", *claude_argv()]
        plain = [wingman_run(), "--", "env", *claude_argv()]  # not recognised: every other layer, no assistant hook
        conversation(api, echoes[:1], hooked, env, work)  # warm-up
        for _ in range(args.rounds):
            for sink, argv in ((with_hook, hooked), (without_hook, plain)):
                run = conversation(api, echoes, argv, env, work)
                wrong = [r for r in run["results"] if r["is_error"] or r["text"].strip() != r["command"][5:]]
                if wrong:
                    sys.exit(f"an echo did not reach the model as its output: {wrong[0]}")
                sink += run["latencies"][:calls]
        # The hook was really in place: a refused call is answered by the assistant layer, before any shell.
        check = conversation(api, ["git push --force origin main"], hooked, env, work)["results"]
        audit = (root / "audit.jsonl").read_text().replace(" ", "")
    if not (check and check[0]["is_error"] and "git.push.force" in check[0]["text"] and '"layer":"assistant"' in audit):
        sys.exit(f"the hooked runs did not go through the assistant hook: {check}")
    on, off = statistics.median(with_hook) * 1000, statistics.median(without_hook) * 1000
    print(f"real Claude Code, {args.rounds} rounds x {calls} Bash calls, inside wingman-run")
    show("assistant hook", on - off, GOAL_MS, "ms", f"median per call with {on:.1f} ms, without {off:.1f} ms")


if __name__ == "__main__":
    main()
