"""Many sessions writing the audit log at once lose and interleave no line."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import WINGMAN_RUN

SESSIONS = 4
ALLOWED = 120  # allowed outright: docker runs in the stub's place
REFUSED = 30
# A long argument makes each line a couple of kilobytes, so interleaving would show.
LONG = "x" * 1800


# Each session runs this program, which calls docker through the session's PATH stub:
# each call is one decision event, and each allowed one an exit event too.
DRIVER = f"""
import subprocess, sys
for i in range({ALLOWED}):
    if subprocess.run(["docker", "ps", "-q", "--filter", f"label=wm-{{i}}-{LONG}"], stdout=subprocess.DEVNULL).returncode:
        sys.exit(9)
for i in range({REFUSED}):
    if subprocess.run(["docker", "stop", f"nosuch-{{i}}"], stderr=subprocess.DEVNULL).returncode != 1:
        sys.exit(8)
"""


def test_concurrent_sessions_lose_and_interleave_nothing(wingman_home, engine):
    procs = [
        subprocess.Popen([WINGMAN_RUN, "--", sys.executable, "-c", DRIVER], env=wingman_home.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(SESSIONS)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    lines = wingman_home.audit_log.read_text().splitlines()
    events = [json.loads(line) for line in lines]  # every line is whole JSON
    assert len(events) == SESSIONS * (2 * ALLOWED + REFUSED)
    by_session: dict[str, list[dict]] = {}
    for event in events:
        by_session.setdefault(event["session"], []).append(event)
    assert len(by_session) == SESSIONS
    for session_events in by_session.values():
        decisions = [e for e in session_events if e["event"] == "decision"]
        exits = {e["id"]: e["exit"] for e in session_events if e["event"] == "exit"}
        allowed = [e for e in decisions if e["verdict"] == "allow"]
        refused = [e for e in decisions if e["verdict"] != "allow"]
        assert len(allowed) == ALLOWED and len(refused) == REFUSED
        assert all(exits[e["id"]] is None for e in allowed)  # allowed outright: its end, not its status
        assert all(e["exit"] == 1 and e["rule"] == "docker.container.stop" for e in refused)
        assert all(LONG in e["argv"][-1] for e in allowed)
