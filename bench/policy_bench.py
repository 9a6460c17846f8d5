"""How long the policy core takes to judge typical assistant commands, in-process.

Run: python3 bench/policy_bench.py [rounds]. Prints the median and p95 per
command and over all of them. The goal: median at most 2 ms for a command
under 500 characters. Not a timed test: machines differ.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from goals import OVER, missed, report  # noqa: E402
from sandbox.policy import Context, Policy, decide_text  # noqa: E402

GOAL_MS = 2.0  # median, for a command under 500 characters

COMMANDS = [
    "git status",
    "docker ps --format '{{.Names}}\\t{{.Status}}'",
    "docker compose -f docker-compose.yml logs --tail 100 web 2>&1 | grep -i error | head -n 50",
    "cd /work/project && npm ci && npm run build && npm test -- --grep 'docker rm' 2>&1 | tail -n 40",
    "git add -A && git commit -m 'Fix the docker rm wording in the docs' && git push -u origin fix/docs",
    "for c in $(docker ps -q --filter label=app=web); do docker inspect --format '{{.Name}} {{.State.Status}}' \"$c\"; done",
    "find . -name '*.pyc' -delete && rm -rf build dist .pytest_cache && python3 -m pytest -q tests/ -k 'not slow'",
    "cat > notes.md <<'EOF'\nRemember: docker system prune -af removes images.\nEOF\ngit diff --stat",
    "sh -c 'docker stop victim'",
    "python3 -c \"import subprocess; subprocess.run(['docker', 'rm', '-f', 'victim'])\"",
    "kubectl get pods -n prod -o wide | awk '{print $1, $3}' | sort | uniq -c",
    "psql -U app -d shop -c \"SELECT id, email FROM users WHERE created_at > now() - interval '1 day'\"",
    "sudo -u deploy env RAILS_ENV=production timeout 600 bundle exec rake db:migrate",
    "trap - DEBUG; /usr/bin/docker stop victim",
    "git reset 2>/dev/null --hard && rm 2>/dev/null -rf build dist",
    "find . -name '*.py' -not -path './.git/*' | xargs -I{} sh -c 'wc -l {}' | sort -n | tail -5",
    "git checkout -q HEAD src/app.py && git switch -c fix/redirects",
    "ssh build-host 'cd /srv/app && git pull && rm -rf tmp/cache'",
]

CONTEXT = Context(cwd="/work/project", project_dir="/work/project", home="/home/dev")


def measure(command: str, rounds: int) -> list[float]:
    policy = Policy()
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        decide_text(command, policy, CONTEXT)
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    decide_text("true", Policy(), CONTEXT)  # load the parser once, as a long-lived broker would
    everything: list[float] = []
    print(f"{'median ms':>10} {'p95 ms':>8}  {'chars':>5}  command")
    for command in COMMANDS:
        samples = measure(command, rounds)
        everything.extend(samples)
        shown = command.replace("\n", "⏎")
        over = "  " + OVER if len(command) < 500 and missed(statistics.median(samples), GOAL_MS) else ""
        print(f"{statistics.median(samples):10.3f} {p95(samples):8.3f}  {len(command):5}  {shown[:70]}{over}")
    report("policy core, all commands", statistics.median(everything), GOAL_MS, "ms",
           f"median; p95 {p95(everything):.3f} ms; {len(COMMANDS)} commands, {rounds} rounds each")


if __name__ == "__main__":
    main()
