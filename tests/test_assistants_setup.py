"""prepare(): the hook goes into this launch only, in each assistant's documented shape; the user's files never change."""

from __future__ import annotations

import json
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from assistants_support import fake_session
from sandbox.assistants.setup import AssistantSetupError, prepare


@pytest.fixture
def session(tmp_path):
    s = fake_session(tmp_path)
    (tmp_path / "session" / "hooks").mkdir()
    return s


def hook_path(session) -> str:
    return f"{session.dir}/hooks/assistant-hook"


def test_claude_gets_a_session_settings_file_after_its_program_word(session):
    env = {}
    for command, at in ((["claude", "-p", "hi"], 1), (["npx", "-y", "@anthropic-ai/claude-code", "-p", "hi"], 3),
                        (["/opt/x/bin/claude"], 1)):
        started = prepare(command, session, env, None)
        assert started[at:at + 2] == ["--settings", f"{session.dir}/assistants/claude-settings.json"]
        assert started[:at] + started[at + 2:] == command
    settings = json.loads((Path(session.dir) / "assistants" / "claude-settings.json").read_text())
    (entry,) = settings["hooks"]["PreToolUse"]
    assert entry["matcher"] == "Bash"
    (hook,) = entry["hooks"]
    assert hook["type"] == "command" and shlex.split(hook["command"]) == [hook_path(session)]
    assert hook["timeout"] > 300  # above the approval wait, so Claude Code does not give up on a human deciding
    assert env["WINGMAN_ASSISTANT"] == "claude"


def test_a_settings_the_user_gave_claude_is_merged_and_left_as_it_was(session, tmp_path):
    theirs = tmp_path / "theirs.json"
    original = b'{"hooks": {"PreToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "x"}]}]},\n "model": "m"}\n'
    theirs.write_bytes(original)
    started = prepare(["claude", "--settings", str(theirs), "-p", "hi"], session, {}, None)
    assert theirs.read_bytes() == original
    assert started[1:3] == ["--settings", f"{session.dir}/assistants/claude-settings.json"] and str(theirs) not in started
    merged = json.loads(open(started[2]).read())
    assert merged["model"] == "m"
    assert [e["matcher"] for e in merged["hooks"]["PreToolUse"]] == ["Edit", "Bash"]


def test_codex_gets_a_per_run_override_that_parses_as_its_hooks_table(session):
    started = prepare(["codex", "exec", "fix it"], session, {}, None)
    assert started[0] == "codex" and started[1] == started[3] == "-c" and started[5:] == ["exec", "fix it"]
    key, _, value = started[2].partition("=")
    assert key == "hooks.PreToolUse"
    (group,) = tomllib.loads(f"v = {value}")["v"]  # -c values are TOML, as `codex --help` says
    assert group["matcher"] == "^Bash$"
    (hook,) = group["hooks"]
    assert hook["type"] == "command" and shlex.split(hook["command"]) == [hook_path(session)]
    assert hook["timeout"] > 300  # Codex's key; an unknown one is ignored and the default (600 s) applies
    # The trust record Codex needs before it runs a hook, for this hook exactly (tests/test_assistants_codex.py
    # shows the real Codex running it).
    key, _, value = started[4].partition("=")
    assert key == "hooks.state"
    state = tomllib.loads(f"v = {value}")["v"]
    assert list(state) == ["/<session-flags>/config.toml:pre_tool_use:0:0"]
    assert state["/<session-flags>/config.toml:pre_tool_use:0:0"]["trusted_hash"].startswith("sha256:")


def test_gemini_reads_a_session_home_whose_settings_add_our_hook(session, tmp_path):
    user_home = tmp_path / "home"
    gemini_dir = user_home / ".gemini"
    (gemini_dir / "tmp").mkdir(parents=True)
    user_text = ('{\n  // a comment, as Gemini CLI allows\n  "hooksConfig": {"enabled": false},\n'
                 '  "hooks": {"BeforeTool": [{"matcher": "write_file", "hooks": [{"type": "command", "command": "a"}]}]},\n'
                 '  "ui": {"theme": "x // not a comment"}\n}\n')
    (gemini_dir / "settings.json").write_text(user_text)
    (gemini_dir / "oauth_creds.json").write_text("{}")
    env = {"HOME": str(user_home)}
    assert prepare(["gemini", "-p", "x"], session, env, None) == ["gemini", "-p", "x"]
    assert env["HOME"] == str(user_home)  # the shell commands still see the user's home
    session_dir = Path(env["GEMINI_CLI_HOME"]) / ".gemini"
    assert str(session_dir).startswith(session.dir)
    ours = json.loads((session_dir / "settings.json").read_text())
    assert ours["ui"] == {"theme": "x // not a comment"}  # the user's settings still apply
    assert [g["matcher"] for g in ours["hooks"]["BeforeTool"]] == ["write_file", "run_shell_command"]
    hook = ours["hooks"]["BeforeTool"][1]["hooks"][0]
    assert hook["type"] == "command" and shlex.split(hook["command"]) == [hook_path(session)]
    assert hook["timeout"] > 300_000  # milliseconds in Gemini CLI
    assert ours["hooksConfig"]["enabled"] is True
    # Everything else is the user's own: what Gemini CLI writes there lands in the user's files.
    assert (session_dir / "tmp").resolve() == (gemini_dir / "tmp").resolve()
    assert (session_dir / "oauth_creds.json").resolve() == (gemini_dir / "oauth_creds.json").resolve()
    assert (gemini_dir / "settings.json").read_text() == user_text


def test_gemini_follows_a_gemini_cli_home_the_user_set(session, tmp_path):
    own = tmp_path / "elsewhere"
    (own / ".gemini").mkdir(parents=True)
    (own / ".gemini" / "settings.json").write_text('{"model": {"name": "m"}}')
    env = {"HOME": str(tmp_path / "home"), "GEMINI_CLI_HOME": str(own)}
    prepare(["gemini"], session, env, None)
    ours = json.loads((Path(env["GEMINI_CLI_HOME"]) / ".gemini" / "settings.json").read_text())
    assert ours["model"] == {"name": "m"} and ours["hooks"]["BeforeTool"]


def test_gemini_without_any_settings_gets_just_our_hook(session, tmp_path):
    env = {"HOME": str(tmp_path / "nobody")}
    prepare(["gemini"], session, env, None)
    ours = json.loads((Path(env["GEMINI_CLI_HOME"]) / ".gemini" / "settings.json").read_text())
    assert [g["matcher"] for g in ours["hooks"]["BeforeTool"]] == ["run_shell_command"]


def test_gemini_refuses_to_start_when_the_user_settings_cannot_be_read(session, tmp_path):
    (tmp_path / ".gemini").mkdir()
    (tmp_path / ".gemini" / "settings.json").write_text("{not json")
    with pytest.raises(AssistantSetupError, match="not valid JSON.*does not start"):
        prepare(["gemini"], session, {"HOME": str(tmp_path)}, None)


def test_cursor_the_editor_is_refused_with_one_line_that_says_how_to_get_a_protected_one(session):
    with pytest.raises(AssistantSetupError) as refused:
        prepare(["cursor", "."], session, {}, None)
    message = str(refused.value)
    assert "\n" not in message and "wingman-run cursor-agent" in message and "already run" in message


def test_cursor_agent_starts_with_a_session_home_that_holds_our_hook(session, tmp_path):
    home = tmp_path / "home"
    (home / ".cursor").mkdir(parents=True)
    (home / ".cursor" / "cli-config.json").write_text("{}")
    user_hooks = b'{"version": 1, "hooks": {"afterFileEdit": [{"command": "fmt"}]}}\n'
    (home / ".cursor" / "hooks.json").write_bytes(user_hooks)
    (home / ".gitconfig").write_text("[user]\n  name = u\n")
    # A stand-in cursor-agent that records how it was called and what it would read.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "called.json"
    (bindir / "cursor-agent").write_text(
        "#!/bin/sh\nexec python3 -c 'import json,os,sys; h=os.environ[\"HOME\"]; json.dump({\"argv\": sys.argv[1:], "
        "\"home\": h, \"hooks\": json.load(open(h+\"/.cursor/hooks.json\")), \"gitconfig\": open(h+\"/.gitconfig\").read()}, "
        f"open(\"{record}\", \"w\"))' \"$@\"\n")
    (bindir / "cursor-agent").chmod(0o755)
    env = {"HOME": str(home), "PATH": f"{bindir}:/usr/bin:/bin"}
    started = prepare([str(bindir / "cursor-agent"), "-p", "fix"], session, env, None)
    subprocess.run(started, env=env, check=True, timeout=30)
    called = json.loads(record.read_text())
    assert called["argv"] == ["-p", "fix"]
    assert called["home"].startswith(session.dir)
    assert called["hooks"]["hooks"]["afterFileEdit"] == [{"command": "fmt"}]  # the user's hooks still run
    (ours,) = called["hooks"]["hooks"]["beforeShellExecution"]
    assert shlex.split(ours["command"]) == [hook_path(session)] and called["hooks"]["version"] == 1
    assert called["gitconfig"] == "[user]\n  name = u\n"  # the rest of the home is the user's own
    assert (home / ".cursor" / "hooks.json").read_bytes() == user_hooks


@pytest.mark.parametrize("command", [["aider"], ["bash", "-l"], ["python3", "script.py"], ["npx", "cowsay"]])
def test_anything_else_starts_unchanged(session, command):
    env = {}
    assert prepare(command, session, env, None) == command
    assert env == {}


def test_assistant_override_names_a_wrapper_the_name_does_not_tell(session):
    started = prepare(["my-claude-wrapper", "-p", "x"], session, {}, "claude")
    assert started[1] == "--settings"
