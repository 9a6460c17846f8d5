"""Real Claude Code inside wingman-run, against the scripted model API and the real engine.

The model asks for Bash calls; Claude Code's own PreToolUse hook (added with
--settings for this session) asks the session's broker before any shell
starts. What the model reads back is the next request's tool_result.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import WINGMAN_RUN
from fixtures_engine import BASE_IMAGE, LABEL, container_state, docker, names
from assistants_support import project_world, remote_head, shell_events_naming
from model_api import ModelApi, assistant_binary, claude_argv, claude_env, claude_home
from wingman_fixture import KEYS, wingman_server  # noqa: F401

TARGET = names.unique("assistant-target")
USER_SETTINGS = {"env": {"USER_SETTING": "kept"}, "hooks": {"PreToolUse": [
    {"matcher": "Bash", "hooks": [{"type": "command", "command": "cat >> \"$HOME/user-hook.log\"; echo >> \"$HOME/user-hook.log\""}]}]}}


@pytest.fixture(scope="module")
def claude():
    binary = assistant_binary("claude")
    if not binary.exists():
        pytest.fail(f"Claude Code is not installed at {binary}: run bash tests/assistants.sh install (CI does)")
    return binary


@pytest.fixture()
def target(engine):
    docker("rm", "-f", TARGET, check=False)
    docker("run", "-d", "--name", TARGET, "--label", LABEL, "--network", "none", BASE_IMAGE, "sleep", "1d")
    yield TARGET
    docker("rm", "-f", TARGET, check=False)


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
    destructive = {
        f"docker rm -f {target}": "docker.container.rm",
        "git push --force origin main": "git.push.force",
        "rm -rf ~/x": "fs.rm",
    }
    harmless = ["docker ps --format '{{.Names}}'", "git status --short --branch", f"{sys.executable} -m pytest -q -p no:cacheprovider -k stop"]
    before = {"settings": settings_bytes(world), "remote": remote_head(world),
              "container": docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", target).stdout}
    with ModelApi([*destructive, *harmless]) as api:
        result = run_claude(wingman_home, api, world)
        assert result.returncode == 0, result.stderr
        results = api.tool_results()
    assert [r["command"] for r in results] == [*destructive, *harmless]
    events = wingman_home.events()
    for said, (command, rule) in zip(results, destructive.items()):
        assert said["is_error"], said
        assert "refused" in said["text"] and rule in said["text"], said["text"]
        assert "instead:" in said["text"], said["text"]  # the safer alternative reaches the model
        judged = [e for e in events if e.get("layer") == "assistant" and e.get("command") == command]
        assert judged and judged[0]["verdict"] in ("ask", "deny") and judged[0]["rule"].startswith(rule)
        assert shell_events_naming(events, command) == [], f"a shell ran {command!r}"
    # Nothing was touched.
    assert container_state(target) == "running"
    assert docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", target).stdout == before["container"]
    assert remote_head(world) == before["remote"]
    assert (world["home"] / "x" / "precious.txt").read_text() == "keep me\n"
    # Everyday commands run, in a shell the session still guards, and their output reaches the model.
    ps, status, tests = results[len(destructive):]
    assert not ps["is_error"] and target in ps["text"]
    assert not status["is_error"] and "## main" in status["text"]
    assert not tests["is_error"] and "1 passed, 1 deselected" in tests["text"]
    assert shell_events_naming(events, "git status --short --branch")  # the shell hooks stayed armed underneath
    # The user's own settings: byte for byte as they were, and still in force (their hook ran for every call).
    assert settings_bytes(world) == before["settings"]
    assert (world["home"] / "user-hook.log").read_text().count('"tool_name":"Bash"') >= len(results)


def _approval_env(server, tmp_path) -> tuple[list[str], dict]:
    profile = tmp_path / "fast.yaml"
    profile.write_text("approvals:\n  poll_seconds: 0.2\n  timeout_seconds: 30\n")
    env = {"WINGMAN_API_URL": server.url, "WINGMAN_APPROVAL_REQUEST_KEY": KEYS["request_key"],
           "WINGMAN_APPROVAL_READ_KEY": KEYS["read_key"]}
    return ["--profile", str(profile)], env


def test_an_approved_ask_runs_exactly_once(claude, wingman_home, world, target, wingman_server, tmp_path):
    args, env = _approval_env(wingman_server, tmp_path)
    command = f"docker stop -t 0 {target}"
    wingman_server.decide_when_pending("approve", decided_by="alice", note="restart window", timeout=60)
    with ModelApi([command]) as api:
        result = run_claude(wingman_home, api, world, *args, env=env)
        assert result.returncode == 0, result.stderr
        (said,) = api.tool_results()
    assert not said["is_error"] and target in said["text"], said
    assert container_state(target) == "exited"
    assert len(wingman_server.requests()) == 1  # one human decision for the whole call, not one per layer
    runs = [e for e in wingman_home.events() if e.get("layer") == "stub" and e.get("event") == "exit"]
    assert len(runs) == 1, runs  # the real docker ran once
    judged = next(e for e in wingman_home.events() if e.get("layer") == "assistant" and e.get("command") == command)
    assert judged["approval"]["status"] == "APPROVED" and judged["approval"]["decided_by"] == "alice"


def test_a_rejection_reaches_the_model_with_the_note(claude, wingman_home, world, target, wingman_server, tmp_path):
    args, env = _approval_env(wingman_server, tmp_path)
    command = f"docker stop -t 0 {target}"
    wingman_server.decide_when_pending("reject", decided_by="bob", note="not during the demo", timeout=60)
    with ModelApi([command]) as api:
        result = run_claude(wingman_home, api, world, *args, env=env)
        assert result.returncode == 0, result.stderr
        (said,) = api.tool_results()
    assert said["is_error"]
    assert "docker.container.stop" in said["text"] and "not during the demo" in said["text"] and "bob" in said["text"]
    assert container_state(target) == "running"
    assert shell_events_naming(wingman_home.events(), command) == []


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
