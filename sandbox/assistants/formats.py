"""Each assistant's hook format: where the shell command sits in its payload, and how a verdict is said.

Pure functions, no I/O. A Judgement-like object has: allowed, verdict, rule,
reason, alternative, decided_by, note, message (the refusal block).

  Claude Code  PreToolUse, tool Bash: tool_input.command. Deny: hookSpecificOutput.permissionDecision
               "deny" with the reason the model reads. Plain allow says nothing, so Claude Code's own
               permission rules still apply; a human's approval says "allow" with who and their note.
  Codex CLI    PreToolUse, tool Bash: tool_input.command. It accepts only "deny" (allow and ask are
               refused as unsupported), so allow of any kind says nothing.
  Gemini CLI   BeforeTool, tool run_shell_command: tool_input.command (and dir_path). It parses stdout
               as JSON: `{}` allows, {"decision": "deny", "reason": ...} blocks.
  Cursor       beforeShellExecution: command, cwd at the top level. Every answer is JSON with
               "permission"; user_message is for the person, agent_message for the model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

# Exit status that blocks in all four when the hook's JSON cannot be trusted to be read.
BLOCKING_STATUS = 2


class BadPayload(ValueError):
    """The hook's input is not what the assistant documents: refuse, never guess."""


@dataclass(frozen=True)
class ShellCall:
    command: str
    cwd: str | None


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise BadPayload(f"{what} is not a string")
    return value


def _cwd(data: dict, key: str = "cwd") -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and os.path.isabs(value) else None


def approval_text(j) -> str:
    who = f" by {j.decided_by}" if j.decided_by else ""
    note = f"; note: {j.note}" if j.note else ""
    return f"wingman-run: approved in Wingman{who}{note} (rule {j.rule})"


def refusal_text(j, command: str) -> str:
    """What the model reads: the refusal block the other layers print, with rule, why and the safer way."""
    text = (j.message or "").strip()
    if not text:
        lines = [f"wingman-run: refused: {command}", f"  rule:     {j.rule} ({j.verdict})"]
        if j.reason:
            lines.append(f"  why:      {j.reason}")
        if j.alternative:
            lines.append(f"  instead:  {j.alternative}")
        text = "\n".join(lines)
    extra = []
    if j.decided_by and j.decided_by not in text:
        extra.append(f"  decided by: {j.decided_by}")
    if j.note and j.note not in text:
        extra.append(f"  note:     {j.note}")
    return "\n".join([text, *extra])


class Claude:
    name = "claude"
    title = "Claude Code"

    @staticmethod
    def shell_call(data: dict) -> ShellCall | None:
        if data.get("tool_name") != "Bash":
            return None
        tool_input = data.get("tool_input")
        if not isinstance(tool_input, dict):
            raise BadPayload("tool_input is not an object")
        return ShellCall(_text(tool_input.get("command"), "tool_input.command"), _cwd(data))

    @staticmethod
    def _decision(decision: str, reason: str) -> str:
        return json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": decision,
                                                  "permissionDecisionReason": reason}})

    @classmethod
    def allow(cls, j) -> tuple[str, str, int]:
        if j is not None and j.verdict == "ask":  # a human approved it: say so, and skip a second prompt
            return cls._decision("allow", approval_text(j)), "", 0
        return "", "", 0

    @classmethod
    def deny(cls, text: str) -> tuple[str, str, int]:
        return cls._decision("deny", text), "", 0

    @staticmethod
    def failure(text: str) -> tuple[str, int]:
        """stdout and status when the broker cannot answer: exit 2 blocks, stderr is the reason."""
        return Claude._decision("deny", text), BLOCKING_STATUS


class Codex(Claude):
    name = "codex"
    title = "Codex CLI"

    @classmethod
    def allow(cls, j) -> tuple[str, str, int]:
        return "", "", 0  # Codex rejects permissionDecision "allow": silence lets the call run

    @staticmethod
    def failure(text: str) -> tuple[str, int]:
        return Codex._decision("deny", text), BLOCKING_STATUS


class Gemini:
    name = "gemini"
    title = "Gemini CLI"
    TOOL = "run_shell_command"

    @classmethod
    def shell_call(cls, data: dict) -> ShellCall | None:
        if data.get("tool_name") != cls.TOOL:
            return None
        tool_input = data.get("tool_input")
        if not isinstance(tool_input, dict):
            raise BadPayload("tool_input is not an object")
        command = _text(tool_input.get("command"), "tool_input.command")
        cwd = _cwd(data)
        where = tool_input.get("dir_path") or tool_input.get("directory")
        if isinstance(where, str) and where:  # the command runs there, relative to the project
            cwd = where if os.path.isabs(where) else os.path.join(cwd or "/", where)
        return ShellCall(command, cwd)

    @staticmethod
    def allow(j) -> tuple[str, str, int]:
        if j is not None and j.verdict == "ask":
            text = approval_text(j)
            return json.dumps({"decision": "allow", "reason": text, "systemMessage": text}), "", 0
        return "{}", "", 0

    @staticmethod
    def deny(text: str) -> tuple[str, str, int]:
        return json.dumps({"decision": "deny", "reason": text}), "", 0

    @staticmethod
    def failure(text: str) -> tuple[str, int]:
        return json.dumps({"decision": "deny", "reason": text}), BLOCKING_STATUS


class Cursor:
    name = "cursor"
    title = "Cursor"

    @staticmethod
    def shell_call(data: dict) -> ShellCall | None:
        event = data.get("hook_event_name")
        if event not in (None, "beforeShellExecution"):
            return None
        return ShellCall(_text(data.get("command"), "command"), _cwd(data))

    @staticmethod
    def allow(j) -> tuple[str, str, int]:
        if j is not None and j.verdict == "ask":
            text = approval_text(j)
            return json.dumps({"permission": "allow", "user_message": text, "agent_message": text}), "", 0
        return json.dumps({"permission": "allow"}), "", 0

    @staticmethod
    def deny(text: str) -> tuple[str, str, int]:
        return json.dumps({"permission": "deny", "user_message": text.splitlines()[0], "agent_message": text}), "", 0

    @staticmethod
    def failure(text: str) -> tuple[str, int]:
        return json.dumps({"permission": "deny", "user_message": text, "agent_message": text}), BLOCKING_STATUS


FORMATS = {f.name: f for f in (Claude, Codex, Gemini, Cursor)}
