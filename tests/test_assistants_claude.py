"""Real Claude Code inside wingman-run, against the scripted model API and the real engine.

The model asks for Bash calls; Claude Code's own PreToolUse hook (added with
--settings for this session) asks the session's broker before any shell
starts. What the model reads back is the next request's tool_result.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import WINGMAN_RUN
from fixtures_engine import names
from assistants_support import (HARMLESS_CALLS, approval_env, check_approved_once, check_everyday_calls_ran,
                                check_nothing_touched, check_refused_before_any_shell, check_rejected_with_the_note,
                                destructive_calls, installed_cli, project_world, running_target, state_before)
from model_api import ModelApi, claude_argv, claude_env, claude_home
from wingman_fixture import wingman_server  # noqa: F401

TARGET = names.unique("assistant-target")
USER_SETTINGS = {"env": {"USER_SETTING": "kept"}, "hooks": {"PreToolUse": [
    {"matcher": "Bash", "hooks": [{"type": "command", "command": "cat >> \"$HOME/user-hook.log\"; echo >> \"$HOME/user-hook.log\""}]}]}}


@pytest.fixture(scope="module")
def claude():
    return installed_cli("claude", "Claude Code")


@pytest.fixture()
def target(engine):
    with running_target(TARGET):
        yield TARGET


@pytest.fixture()
def user_home():
    # Not under /tmp: the policy lets anything delete in a temp dir, and ~/x must be a real home's.
    home = Path(tempfile.mkdtemp(prefix=f"{names.unique('home')}-", dir=Path.home() / ".cache"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture()
def world(wingman_home, tmp_path, user_home):
    """A HOME with the user's own Claude settings and a directory to lose, and a git project with a remote."""
    home = claude_home(user_home)
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text(json.dumps(USER_SETTINGS, indent=2) + "\n")
    return project_world(tmp_path, home)


def settings_bytes(world) -> bytes:
    return (world["home"] / ".claude" / "settings.json").read_bytes()


def run_claude(wingman_home, api: ModelApi, world, *wingman_args: str, env=None, timeout=180):
    full_env = claude_env({**wingman_home.env, **(env or {})}, world["home"], api.url)
    return subprocess.run([WINGMAN_RUN, *wingman_args, "--", *claude_argv()],
                          env=full_env, cwd=world["project"], capture_output=True, text=True, timeout=timeout)


def test_destructive_calls_are_refused_before_any_shell_starts(claude, wingman_home, world, target):
    destructive = destructive_calls(target)
    before = {"settings": settings_bytes(world), **state_before(world, target)}
    with ModelApi([*destructive, *HARMLESS_CALLS]) as api:
        result = run_claude(wingman_home, api, world)
        assert result.returncode == 0, result.stdout + result.stderr
        results = api.tool_results()
    assert [r["command"] for r in results] == [*destructive, *HARMLESS_CALLS], results
    events = wingman_home.events()
    check_refused_before_any_shell(results, destructive, events)
    check_nothing_touched(world, target, before)
    check_everyday_calls_ran(results[len(destructive):], target, events)
    # The user's own settings: byte for byte as they were, and still in force (their hook ran for every call).
    assert settings_bytes(world) == before["settings"]
    assert (world["home"] / "user-hook.log").read_text().count('"tool_name":"Bash"') >= len(results)


def test_an_approved_ask_runs_exactly_once(claude, wingman_home, world, target, wingman_server, tmp_path):
    args, env = approval_env(wingman_server, tmp_path)
    command = f"docker stop -t 0 {target}"
    wingman_server.decide_when_pending("approve", decided_by="alice", note="restart window", timeout=60)
    with ModelApi([command]) as api:
        result = run_claude(wingman_home, api, world, *args, env=env)
        assert result.returncode == 0, result.stderr
        (said,) = api.tool_results()
    check_approved_once(said, target, wingman_server, wingman_home.events(), command)


def test_a_rejection_reaches_the_model_with_the_note(claude, wingman_home, world, target, wingman_server, tmp_path):
    args, env = approval_env(wingman_server, tmp_path)
    command = f"docker stop -t 0 {target}"
    wingman_server.decide_when_pending("reject", decided_by="bob", note="not during the demo", timeout=60)
    with ModelApi([command]) as api:
        result = run_claude(wingman_home, api, world, *args, env=env)
        assert result.returncode == 0, result.stderr
        (said,) = api.tool_results()
    check_rejected_with_the_note(said, target, wingman_home.events(), command)


def test_the_hook_is_added_for_this_session_only(claude, wingman_home, world):
    with ModelApi(["echo $WINGMAN_ASSISTANT"]) as api:
        result = run_claude(wingman_home, api, world)
        assert result.returncode == 0, result.stderr
        (said,) = api.tool_results()
        assert said["text"].strip() == "claude"
    # Claude Code outside the session has no such hook: the same call runs without asking anyone.
    with ModelApi(["git push --force origin main"]) as api:
        outside = subprocess.run(claude_argv(), env=claude_env(wingman_home.env, world["home"], api.url),
                                 cwd=world["project"], capture_output=True, text=True, timeout=120)
        assert outside.returncode == 0, outside.stderr
        (said,) = api.tool_results()
    assert "wingman-run" not in said["text"]
