"""Real Gemini CLI inside wingman-run, against the scripted Gemini API and the real engine.

`gemini -p` runs headless against GOOGLE_GEMINI_BASE_URL with a fake API key;
the user's own ~/.gemini/settings.json picks the API-key auth. The model asks
for run_shell_command calls; Gemini CLI's own BeforeTool hook (in the
session's settings, under GEMINI_CLI_HOME) asks the session's broker before
any shell starts. What the model reads back is the next request's
functionResponse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from assistants_support import (HARMLESS_CALLS, approval_env, check_approved_once, check_everyday_calls_ran,
                                check_nothing_touched, check_refused_before_any_shell, check_rejected_with_the_note,
                                destructive_calls, installed_cli, project_world, running_target, state_before)
from conftest import WINGMAN_RUN
from fixtures_engine import names
from gemini_api import GeminiApi
from wingman_fixture import wingman_server  # noqa: F401

TARGET = names.unique("gemini-target")
# The user's own: API-key auth (the stand-in's fake key), folder trust off (Gemini CLI runs no
# hooks at all in a folder it does not trust), and a hook of their own that must keep running.
USER_SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
    "ui": {"hideBanner": True},
    "hooks": {"BeforeTool": [{"matcher": "run_shell_command", "hooks": [
        {"type": "command", "name": "users-own", "command": "cat >> \"$HOME/user-hook.log\"; echo >> \"$HOME/user-hook.log\"; echo '{}'"}]}]},
}


@pytest.fixture(scope="module")
def gemini():
    return installed_cli("gemini", "Gemini CLI")


@pytest.fixture()
def target(engine):
    with running_target(TARGET):
        yield TARGET


@pytest.fixture()
def world(wingman_home, tmp_path):
    # Not under /tmp: the policy lets anything delete in a temp dir, and ~/x must be a real home's.
    home = Path(tempfile.mkdtemp(prefix=f"{names.unique('gemini-home')}-", dir=Path.home() / ".cache"))
    (home / ".gemini").mkdir()
    (home / ".gemini" / "settings.json").write_text(json.dumps(USER_SETTINGS, indent=2) + "\n")
    yield project_world(tmp_path, home)
    shutil.rmtree(home, ignore_errors=True)


def gemini_env(base: dict, home: Path, url: str) -> dict:
    env = {k: v for k, v in base.items() if not k.startswith(("GEMINI_", "GOOGLE_"))}
    env.update(HOME=str(home), GEMINI_API_KEY="fake-key-not-a-key", GOOGLE_GEMINI_BASE_URL=url, SHELL="/bin/bash")
    return env


def gemini_argv(gemini: Path) -> list[str]:
    # --yolo: Gemini CLI's own approval prompt stays out of the way; the session's hook decides.
    return [str(gemini), "-p", "Run the commands.", "--yolo"]


def run_gemini(wingman_home, gemini, world, api, *wingman_args: str, env=None, timeout=240):
    return subprocess.run([WINGMAN_RUN, *wingman_args, "--", *gemini_argv(gemini)],
                          env=gemini_env({**wingman_home.env, **(env or {})}, world["home"], api.url),
                          cwd=world["project"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def settings_bytes(world) -> bytes:
    return (world["home"] / ".gemini" / "settings.json").read_bytes()


def test_gemini_destructive_calls_are_refused_before_any_shell_starts(gemini, wingman_home, world, target):
    destructive = destructive_calls(target)
    before = {"settings": settings_bytes(world), **state_before(world, target)}
    with GeminiApi([*destructive, *HARMLESS_CALLS]) as api:
        result = run_gemini(wingman_home, gemini, world, api)
        assert result.returncode == 0, result.stdout + result.stderr
        results = api.tool_results()
    assert [r["command"] for r in results] == [*destructive, *HARMLESS_CALLS], results
    events = wingman_home.events()
    check_refused_before_any_shell(results, destructive, events)
    check_nothing_touched(world, target, before)
    check_everyday_calls_ran(results[len(destructive):], target, events)
    # The user's own settings: byte for byte as they were, and still in force (their hook ran too).
    assert settings_bytes(world) == before["settings"]
    assert (world["home"] / "user-hook.log").read_text().count('"tool_name":"run_shell_command"') >= len(results)


def test_gemini_approved_ask_runs_exactly_once(gemini, wingman_home, world, target, wingman_server, tmp_path):
    args, env = approval_env(wingman_server, tmp_path)
    command = f"docker stop -t 0 {target}"
    wingman_server.decide_when_pending("approve", decided_by="alice", note="restart window", timeout=60)
    with GeminiApi([command]) as api:
        result = run_gemini(wingman_home, gemini, world, api, *args, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        (said,) = api.tool_results()
    check_approved_once(said, target, wingman_server, wingman_home.events(), command)


def test_gemini_rejection_reaches_the_model_with_the_note(gemini, wingman_home, world, target, wingman_server, tmp_path):
    args, env = approval_env(wingman_server, tmp_path)
    command = f"docker stop -t 0 {target}"
    wingman_server.decide_when_pending("reject", decided_by="bob", note="not during the demo", timeout=60)
    with GeminiApi([command]) as api:
        result = run_gemini(wingman_home, gemini, world, api, *args, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        (said,) = api.tool_results()
    check_rejected_with_the_note(said, target, wingman_home.events(), command)


def test_gemini_hook_is_added_for_this_session_only(gemini, wingman_home, world):
    with GeminiApi(["echo $WINGMAN_ASSISTANT"]) as api:
        result = run_gemini(wingman_home, gemini, world, api)
        assert result.returncode == 0, result.stdout + result.stderr
        (said,) = api.tool_results()
    assert "gemini" in said["text"], said
    # Gemini CLI outside the session has no such hook: the same call runs without asking anyone.
    with GeminiApi(["git push --force origin main"]) as api:
        outside = subprocess.run(gemini_argv(gemini), env=gemini_env(wingman_home.env, world["home"], api.url),
                                 cwd=world["project"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=120)
        assert outside.returncode == 0, outside.stdout + outside.stderr
        (said,) = api.tool_results()
    assert "wingman-run" not in said["text"], said
