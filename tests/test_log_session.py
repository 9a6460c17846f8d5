"""wingman-sandbox log inside a session shows that session, unless --all."""

from __future__ import annotations

import json

from conftest import WINGMAN_SANDBOX


def test_log_inside_a_session_shows_only_that_session_unless_all(wingman_home, engine):
    assert wingman_home.run("--", "docker", "version", "--format", "{{.Client.Version}}").returncode == 0
    (earlier,) = {e["session"] for e in wingman_home.events()}
    script = (f'docker ps -q >/dev/null; echo "id=$WINGMAN_SESSION"; {WINGMAN_SANDBOX} log --json; echo ---; '
              f'{WINGMAN_SANDBOX} log --all --json')
    result = wingman_home.run("--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    this = first.removeprefix("id=")
    own, every = "\n".join(rest).split("---")
    own_sessions = {json.loads(line)["session"] for line in own.strip().splitlines()}
    every_sessions = {json.loads(line)["session"] for line in every.strip().splitlines()}
    assert own_sessions == {this}
    assert every_sessions == {earlier, this}
    assert f"this session's events ({this}); --all for every session" in result.stderr


def test_log_outside_a_session_shows_every_session(wingman_home, engine):
    for _ in range(2):
        assert wingman_home.run("--", "docker", "ps", "-q").returncode == 0
    shown = {json.loads(line)["session"] for line in wingman_home.sandbox("log", "--json").stdout.splitlines()}
    assert len(shown) == 2
