"""wingman-sandbox log: the table, the raw lines, filters, and --follow."""

from __future__ import annotations

import json
import subprocess
import time

from conftest import WINGMAN_SANDBOX


def _two_sessions(home):
    assert home.run("--", "sh", "-c", "docker ps -q >/dev/null; docker stop nosuch 2>/dev/null; true").returncode == 0
    assert home.run("--", "docker", "version", "--format", "{{.Client.Version}}").returncode == 0
    return sorted({e["session"] for e in home.events()})


def test_table_merges_exit_status_and_shows_refusals(wingman_home, engine):
    first, second = _two_sessions(wingman_home)
    header, *table = wingman_home.sandbox("log").stdout.splitlines()
    assert header.split() == ["TIME", "SESSION", "LAYER", "VERDICT", "RULE", "EXIT", "COMMAND"]
    assert len(table) == 3  # three decisions; exits are merged into their rows
    ps_row = next(row for row in table if "docker ps -q" in row)
    # Allowed outright, docker ran in the stub's place: its end is recorded ("-"), its status went to the caller.
    assert "allow" in ps_row and "docker.container.ls" in ps_row and ps_row.split()[-4] == "-"
    stop_row = next(row for row in table if "docker stop nosuch" in row)
    assert "ask" in stop_row and "docker.container.stop" in stop_row


def test_raw_lines_filters_and_last_n(wingman_home, engine):
    first, second = _two_sessions(wingman_home)
    raw = [json.loads(line) for line in wingman_home.sandbox("log", "--json").stdout.splitlines()]
    assert raw == wingman_home.events()
    only_first = [json.loads(line) for line in wingman_home.sandbox("log", "--json", "--session", first).stdout.splitlines()]
    assert only_first and {e["session"] for e in only_first} == {first}
    last = wingman_home.sandbox("log", "-n", "1").stdout.splitlines()
    assert len(last) == 2 and "docker version" in last[1]


def test_follow_prints_new_events(wingman_home, engine):
    wingman_home.audit_log.parent.mkdir(parents=True, exist_ok=True)
    follower = subprocess.Popen([WINGMAN_SANDBOX, "log", "--json", "--follow"], env=wingman_home.env,
                                stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert wingman_home.run("--", "docker", "ps", "-q").returncode == 0
        line = follower.stdout.readline()
        assert json.loads(line)["argv"] == ["docker", "ps", "-q"]
    finally:
        follower.kill()
        follower.wait()


def test_unreadable_line_is_reported_not_dropped(wingman_home):
    wingman_home.audit_log.parent.mkdir(parents=True, exist_ok=True)
    wingman_home.audit_log.write_text('{"event":"decision","argv":["docker","ps"],"verdict":"allow"}\nnot json\n')
    table = wingman_home.sandbox("log").stdout
    assert "line 2 of the log is not JSON" in table
