"""answer(): each assistant's payload in, its own answer out; anything unreadable is refused."""

from __future__ import annotations

import json

import pytest

from assistants_support import APPROVED, DENIED, REJECTED, Verdict
from sandbox.assistants import answer

CLAUDE = {"cwd": "/work", "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "CMD"}}
GEMINI = {"cwd": "/work", "hook_event_name": "BeforeTool", "tool_name": "run_shell_command",
          "tool_input": {"command": "CMD", "dir_path": "sub"}}
CURSOR = {"hook_event_name": "beforeShellExecution", "command": "CMD", "cwd": "/work"}
PAYLOADS = {"claude": CLAUDE, "codex": CLAUDE, "gemini": GEMINI, "cursor": CURSOR}


def call(name, payload, verdict):
    seen = []

    def judge(text, cwd):
        seen.append((text, cwd))
        return verdict

    out, err, status = answer(name, payload if isinstance(payload, str) else json.dumps(payload), "/hook-cwd", judge)
    return out, err, status, seen


def reason_of(name: str, out: str) -> tuple[str, str]:
    data = json.loads(out)
    if name in ("claude", "codex"):
        return data["hookSpecificOutput"]["permissionDecision"], data["hookSpecificOutput"]["permissionDecisionReason"]
    if name == "gemini":
        return data["decision"], data.get("reason", "")
    return data["permission"], data.get("agent_message", "")


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_a_refusal_names_the_rule_the_reason_and_the_alternative(name):
    out, err, status, seen = call(name, PAYLOADS[name], DENIED)
    assert status == 0 and err == ""
    decision, reason = reason_of(name, out)
    assert decision == "deny"
    for part in ("git.push.force", "rewrites the remote's history", "--force-with-lease"):
        assert part in reason
    assert seen[0][0] == "CMD"


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_a_rejection_carries_who_decided_and_their_note(name):
    out, _, _, _ = call(name, PAYLOADS[name], REJECTED)
    decision, reason = reason_of(name, out)
    assert decision == "deny" and "bob" in reason and "not during the demo" in reason


def test_plain_allow_says_nothing_where_the_assistant_has_its_own_permissions():
    assert call("claude", CLAUDE, Verdict(True))[:3] == ("", "", 0)
    assert call("codex", CLAUDE, Verdict(True))[:3] == ("", "", 0)
    assert call("gemini", GEMINI, Verdict(True))[:3] == ("{}", "", 0)
    assert json.loads(call("cursor", CURSOR, Verdict(True))[0]) == {"permission": "allow"}


@pytest.mark.parametrize("name", ["claude", "gemini", "cursor"])
def test_a_human_approval_is_passed_on_with_who_and_the_note(name):
    out, _, status, _ = call(name, PAYLOADS[name], APPROVED)
    decision, reason = reason_of(name, out)
    assert status == 0 and decision == "allow"
    assert "alice" in reason and "restart window" in reason


def test_codex_gets_silence_for_an_approval_because_it_refuses_allow_decisions():
    assert call("codex", CLAUDE, APPROVED)[:3] == ("", "", 0)


@pytest.mark.parametrize("name,payload", [
    ("claude", {**CLAUDE, "tool_name": "Read", "tool_input": {"file_path": "/etc/passwd"}}),
    ("codex", {**CLAUDE, "tool_name": "apply_patch", "tool_input": {"patch": "..."}}),
    ("gemini", {**GEMINI, "tool_name": "read_file", "tool_input": {"path": "x"}}),
    ("cursor", {"hook_event_name": "beforeReadFile", "file_path": "x"}),
])
def test_other_tools_are_allowed_without_judging(name, payload):
    out, err, status, seen = call(name, payload, DENIED)
    assert seen == [] and status == 0 and "deny" not in out


@pytest.mark.parametrize("name", sorted(PAYLOADS))
@pytest.mark.parametrize("payload", ["not json", "[1, 2]", '{"tool_name": "Bash", "tool_input": {"command": 7}}',
                                     '{"tool_name": "run_shell_command", "tool_input": "rm -rf /"}',
                                     '{"hook_event_name": "beforeShellExecution", "command": null}'])
def test_a_payload_that_cannot_be_read_is_refused(name, payload):
    out, _, status, seen = call(name, payload, Verdict(True))
    if seen:  # a payload of another assistant's shape may be no shell call at all for this one: allowed unjudged
        pytest.fail("an unreadable payload was judged")
    if out in ("", "{}") or json.loads(out).get("permission") == "allow":
        # not a shell call in this assistant's format (e.g. Cursor reading a Claude payload without a command)
        assert name != "cursor" or "command" not in payload
        return
    decision, reason = reason_of(name, out)
    assert decision == "deny" and "cannot be read" in reason


def test_gemini_judges_the_command_where_it_runs():
    _, _, _, seen = call("gemini", GEMINI, Verdict(True))
    assert seen == [("CMD", "/work/sub")]


def test_a_judge_that_breaks_refuses():
    def judge(text, cwd):
        raise RuntimeError("policy file vanished")

    out, _, status = answer("claude", json.dumps(CLAUDE), "/", judge)
    decision = json.loads(out)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny" and "policy file vanished" in decision["permissionDecisionReason"]


def test_an_unknown_assistant_is_a_bad_request():
    assert answer("aider", "{}", "/", lambda *a: Verdict(True))[2] == 2
