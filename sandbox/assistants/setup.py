"""Add the assistant's own shell-tool hook to this one launch, never to the user's settings files.

  claude        --settings SESSION_DIR/assistants/claude-settings.json, inserted after the program word;
                Claude Code merges it with the user's own settings (a --settings the user gave is merged
                into ours, their file left as it is).
  codex         -c hooks.PreToolUse=[...] and -c hooks.state={...} (its trust record) after the program
                word: a per-run override layered over the user's ~/.codex/config.toml, which stays in force
                and untouched. A session config home
                would have to copy the user's auth, history and sessions, and would lose what Codex
                writes there.
  gemini        GEMINI_CLI_HOME -> a session home whose .gemini links to the user's entries, except
                settings.json: the user's settings plus our BeforeTool hook. HOME stays the user's.
  cursor-agent  HOME -> a session home whose entries link to the user's own, except .cursor/hooks.json,
                which is the user's hooks plus ours (Cursor reads hooks only from fixed places).
  cursor        refused: it hands its arguments to a Cursor that may already run, outside the session.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from pathlib import Path

from ..session.layout import HOMES_DIR
from .homes import ConfigReadError, link_entries, read_json_object
from .names import recognise
from .program import write_program

ASSISTANTS_DIR = "assistants"
HOOK_NAME = "wingman-run"
# Above the approval wait: the hook must outlive a human deciding, or the assistant gives up on it.
HOOK_MARGIN_SECONDS = 60
DEFAULT_APPROVAL_SECONDS = 300


class AssistantSetupError(Exception):
    """The assistant cannot be started protected; the message says what to do instead."""


def prepare(command: list[str], session, env: dict, assistant: str | None) -> list[str]:
    """The command to start, with the assistant's hook added for this session; writes session files, sets env."""
    found = recognise(command, assistant)
    if found is None:
        return command
    if found.adapter not in PREPARERS:
        raise AssistantSetupError(f"unknown assistant {assistant!r} (known: claude, codex, gemini, cursor)")
    if found.command == "cursor" and found.adapter == "cursor":
        raise AssistantSetupError(
            "refused: `cursor` hands its arguments to a Cursor that may already run, outside this session. "
            "For a protected agent run `wingman-run cursor-agent`; for the editor, quit Cursor and start it "
            "with `wingman-run -- cursor --user-data-dir DIR` (a separate instance that stays in the session).")
    wait = approval_wait(session)
    bash = find_bash()
    hook = write_program(session, found.adapter, bash, wait + HOOK_MARGIN_SECONDS)
    env["WINGMAN_ASSISTANT"] = found.adapter
    return PREPARERS[found.adapter](command, found.index, session, env, str(hook), wait + HOOK_MARGIN_SECONDS)


def find_bash() -> str:
    for candidate in ("/usr/bin/bash", "/bin/bash", "/usr/local/bin/bash", "/opt/homebrew/bin/bash"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise AssistantSetupError("no bash found for the assistant hook")


def approval_wait(session) -> int:
    """How long an approval may take in this session, in seconds."""
    try:
        from ..approvals.setup import session_settings

        settings = session_settings(Path(session.dir))
    except Exception:  # no approval service, or none readable: the wait is the profile's default
        settings = None
    if settings is not None:
        return int(settings.timeout_seconds + settings.poll_seconds) + 1
    approvals = (session.profile or {}).get("approvals") or {}
    return int(approvals.get("timeout_seconds", DEFAULT_APPROVAL_SECONDS))


def session_file(session, name: str, content: str) -> Path:
    directory = Path(session.dir) / ASSISTANTS_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


# -- Claude Code ------------------------------------------------------------------------------

def claude_settings(hook: str, timeout: int) -> dict:
    return {"hooks": {"PreToolUse": [
        {"matcher": "Bash", "hooks": [{"type": "command", "command": shlex.quote(hook), "timeout": timeout}]}]}}


def _user_settings_arg(command: list[str], start: int) -> tuple[int, int, str] | None:
    """(first index, end index, value) of a --settings the user passed."""
    for i in range(start, len(command)):
        word = command[i]
        if word == "--":
            return None
        if word == "--settings" and i + 1 < len(command):
            return i, i + 2, command[i + 1]
        if word.startswith("--settings="):
            return i, i + 1, word.split("=", 1)[1]
    return None


def _load_claude_settings(value: str) -> dict:
    try:
        data = json.loads(value) if value.lstrip().startswith("{") else json.loads(Path(value).read_text())
    except (OSError, ValueError) as exc:
        raise AssistantSetupError(f"the --settings given to claude cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise AssistantSetupError("the --settings given to claude is not a JSON object")
    return data


def prepare_claude(command, index, session, env, hook, timeout) -> list[str]:
    ours = claude_settings(hook, timeout)
    given = _user_settings_arg(command, index + 1)
    if given:
        merged = _load_claude_settings(given[2])
        hooks = merged.setdefault("hooks", {})
        if not isinstance(hooks, dict):
            raise AssistantSetupError("the --settings given to claude has a `hooks` that is not an object")
        hooks["PreToolUse"] = [*(hooks.get("PreToolUse") or []), *ours["hooks"]["PreToolUse"]]
        path = session_file(session, "claude-settings.json", json.dumps(merged, indent=1))
        return [*command[:given[0]], "--settings", str(path), *command[given[1]:]]
    path = session_file(session, "claude-settings.json", json.dumps(ours, indent=1))
    return [*command[:index + 1], "--settings", str(path), *command[index + 1:]]


# -- Codex CLI --------------------------------------------------------------------------------

def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string for these characters


# Codex runs a hook only when config holds its trust record, `hooks.state."<key>".trusted_hash`, and it
# reads that record from the `-c` layer too: the key names the session-flags layer, the event, the group's
# and the handler's index; the hash is sha256 of the handler's identity as compact JSON with sorted keys.
# A `-c` hook without it is skipped without a word (checked against Codex CLI 0.171 and its `hooks/list`).
CODEX_HOOK_KEY = "/<session-flags>/config.toml:pre_tool_use:0:0"
CODEX_MATCHER = "^Bash$"


def codex_trust_hash(command: str, timeout: int) -> str:
    identity = {"event_name": "pre_tool_use", "matcher": CODEX_MATCHER,
                "hooks": [{"async": False, "command": command, "timeout": timeout, "type": "command"}]}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def codex_override(hook: str, timeout: int) -> str:
    command = shlex.quote(hook)
    return (f'hooks.PreToolUse=[{{matcher={_toml_string(CODEX_MATCHER)},hooks=[{{type="command",'
            f'command={_toml_string(command)},timeout={timeout}}}]}}]')


def codex_trust(hook: str, timeout: int) -> str:
    digest = codex_trust_hash(shlex.quote(hook), timeout)
    return f'hooks.state={{{_toml_string(CODEX_HOOK_KEY)}={{trusted_hash={_toml_string(digest)}}}}}'


def prepare_codex(command, index, session, env, hook, timeout) -> list[str]:
    return [*command[:index + 1], "-c", codex_override(hook, timeout), "-c", codex_trust(hook, timeout),
            *command[index + 1:]]


# -- Gemini CLI -------------------------------------------------------------------------------

# Gemini CLI reads its user settings from $GEMINI_CLI_HOME/.gemini (HOME when unset). Its system
# settings path would be simpler, but Gemini CLI 0.61 skips a system settings file unless the
# file and every directory above it are owned by root and writable by nobody else.
GEMINI_HOME = "GEMINI_CLI_HOME"


def gemini_hook(hook: str, timeout: int) -> dict:
    return {"matcher": "run_shell_command", "hooks": [
        {"type": "command", "name": HOOK_NAME, "command": shlex.quote(hook), "timeout": timeout * 1000}]}


def gemini_settings(hook: str, timeout: int, user_settings: dict | None) -> dict:
    settings = dict(user_settings or {})
    hooks = dict(settings.get("hooks") or {})
    hooks["BeforeTool"] = [*(hooks.get("BeforeTool") or []), gemini_hook(hook, timeout)]
    settings["hooks"] = hooks
    # Hooks on for this session even where the user switched them off: ours is the first check.
    settings["hooksConfig"] = {**(settings.get("hooksConfig") or {}), "enabled": True}
    return settings


def prepare_gemini(command, index, session, env, hook, timeout) -> list[str]:
    user_dir = Path(env.get(GEMINI_HOME) or env.get("HOME") or os.path.expanduser("~")) / ".gemini"
    try:
        user_settings = read_json_object(user_dir / "settings.json", comments=True)
    except ConfigReadError as exc:
        raise AssistantSetupError(f"Gemini CLI's settings {exc}; the session would drop them, so it does not start") from None
    home = Path(session.dir) / HOMES_DIR / "gemini"
    link_entries(user_dir, home / ".gemini", keep_out={"settings.json"})
    settings = home / ".gemini" / "settings.json"
    settings.write_text(json.dumps(gemini_settings(hook, timeout, user_settings), indent=1))
    settings.chmod(0o600)
    env[GEMINI_HOME] = str(home)
    return command


# -- Cursor agent -----------------------------------------------------------------------------

def cursor_hooks(hook: str, user_hooks: dict | None) -> dict:
    data = dict(user_hooks or {})
    data.setdefault("version", 1)
    hooks = dict(data.get("hooks") or {})
    hooks["beforeShellExecution"] = [*(hooks.get("beforeShellExecution") or []), {"command": shlex.quote(hook)}]
    data["hooks"] = hooks
    return data


def prepare_cursor(command, index, session, env, hook, timeout) -> list[str]:
    real_home = Path(env.get("HOME") or os.path.expanduser("~"))
    home = Path(session.dir) / HOMES_DIR / "cursor"
    try:
        user_hooks = read_json_object(real_home / ".cursor" / "hooks.json")
    except ConfigReadError as exc:
        raise AssistantSetupError(f"your {exc}") from None
    link_entries(real_home, home, keep_out={".cursor"})
    link_entries(real_home / ".cursor", home / ".cursor", keep_out={"hooks.json"})
    (home / ".cursor" / "hooks.json").write_text(json.dumps(cursor_hooks(hook, user_hooks), indent=1))
    env["HOME"] = str(home)
    return command


PREPARERS = {"claude": prepare_claude, "codex": prepare_codex, "gemini": prepare_gemini, "cursor": prepare_cursor}
