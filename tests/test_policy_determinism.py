"""A verdict never depends on how busy the machine is.

16 processes judge the same commands at once while other processes burn CPU; every
one must give the verdicts a single process gives alone. The commands include the
large inputs a wall-clock budget used to refuse under load (a 7.6 KB commit message).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sandbox.policy import Context, Policy, decide_text, shell

ROOT = Path(__file__).resolve().parent.parent
CONTEXT = Context(cwd="/work/project", project_dir="/work/project", home="/home/dev")
WORKERS = 16
BURNERS = 2 * (os.cpu_count() or 2)
DEADLINE_SECONDS = 240

_MESSAGE = "\n".join(f"- step {i}: move the docker rm wording out of the guide, keep git push --force out of it"
                     for i in range(90))
_TABLE = "\n".join(f"| rule {i} | docker.container.stop | ask | deny |" for i in range(70))
COMMANDS = [
    "git commit -m '" + _MESSAGE + "'",  # about 7.6 KB
    'git commit -m "' + _TABLE + '"',  # hundreds of pipes inside quotes
    "cat > notes.md <<'EOF'\n" + ("| a | b | c |\n" * 4000) + "EOF\n",  # a heredoc near the size limit
    " | ".join(["cat data.txt"] + ["sed -e s/a/b/"] * 200),  # a long but accepted pipeline
    "a | " * 300 + "b",  # over the stage budget: refused, every time
    "echo " + "x" * 70_000,  # over the size budget: refused, every time
    "rm 2>/dev/null -rf ~",
    "echo / | xargs -J {} rm -rf {}",
    "git checkout HEAD src/app.py",
    "find . -delete",
    "docker ps --format '{{.Names}}'",
    "sh -c 'docker stop victim'",
]

_WORKER = """
import json, sys
sys.path.insert(0, {root!r})
from sandbox.policy import Context, Policy, decide_text
commands = json.load(open(sys.argv[1]))
ctx = Context(cwd="/work/project", project_dir="/work/project", home="/home/dev")
out = []
for _ in range(2):
    out.append([[decide_text(c, Policy(), ctx).verdict.value, decide_text(c, Policy(), ctx).rule] for c in commands])
print(json.dumps(out))
"""
_BURNER = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    sum(i * i for i in range(10000))\n"


def _alone() -> list[list[str]]:
    return [[decide_text(c, Policy(), CONTEXT).verdict.value, decide_text(c, Policy(), CONTEXT).rule] for c in COMMANDS]


def test_the_commands_are_judged_on_their_merits_alone():
    verdicts = _alone()
    assert verdicts[0] == ["allow", "git.work"]
    assert verdicts[1] == ["allow", "git.work"]
    assert verdicts[2][0] == "allow"
    assert verdicts[3][0] == "allow"
    assert verdicts[4] == ["deny", "parse.unsupported"]
    assert verdicts[5] == ["deny", "parse.unsupported"]


def test_sixteen_checks_at_once_on_a_busy_machine_agree_with_one_alone(tmp_path):
    expected = _alone()
    commands_file = tmp_path / "commands.json"
    commands_file.write_text(json.dumps(COMMANDS))
    burners = [subprocess.Popen([sys.executable, "-c", _BURNER.format(seconds=DEADLINE_SECONDS)])
               for _ in range(BURNERS)]
    workers = []
    try:
        script = _WORKER.format(root=str(ROOT))
        for _ in range(WORKERS):  # all started before any is read: they run at once
            workers.append(subprocess.Popen([sys.executable, "-c", script, str(commands_file)],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        started = time.monotonic()
        results = []
        for worker in workers:
            remaining = max(1.0, DEADLINE_SECONDS - (time.monotonic() - started))
            out, err = worker.communicate(timeout=remaining)  # bounded: a hung worker fails the test
            assert worker.returncode == 0, err
            results.append(json.loads(out))
    finally:
        for process in burners + workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    for rounds in results:
        for verdicts in rounds:
            assert verdicts == expected


def test_the_cpu_time_last_resort_still_refuses(monkeypatch):
    monkeypatch.setattr(shell, "PARSE_CPU_SECONDS", -1.0)
    decision = decide_text(COMMANDS[2], Policy(), CONTEXT)
    assert (decision.verdict.value, decision.rule) == ("deny", "parse.unsupported")
    assert "too long" in decision.findings[0].detail
