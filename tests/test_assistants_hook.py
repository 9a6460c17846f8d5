"""The generated hook program, run by real bash against a broker on loopback TCP: wire format, waiting, failing closed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from assistants_support import APPROVED, DENIED, TinyBroker, Verdict, fake_session
from sandbox.assistants.program import write_program
from sandbox.assistants.setup import find_bash

CLAUDE_PAYLOAD = {"session_id": "x", "cwd": "/tmp", "hook_event_name": "PreToolUse", "tool_name": "Bash",
                  "tool_input": {"command": "git push --force origin main", "description": "push"}}
PAYLOADS = {
    "claude": CLAUDE_PAYLOAD,
    "codex": {**CLAUDE_PAYLOAD, "turn_id": "t-1"},
    "gemini": {"cwd": "/tmp", "hook_event_name": "BeforeTool", "tool_name": "run_shell_command",
               "tool_input": {"command": "git push --force origin main"}},
    "cursor": {"hook_event_name": "beforeShellExecution", "command": "git push --force origin main", "cwd": "/tmp"},
}


def run_hook(program, payload: dict | str, cwd, timeout=30) -> subprocess.CompletedProcess:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return subprocess.run([str(program)], input=text, capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={"PATH": "/usr/bin:/bin"})


@pytest.fixture
def session(tmp_path):
    return fake_session(tmp_path)


def test_the_program_is_bash_in_privileged_mode_and_private_to_the_session(session):
    program = write_program(session, "claude", find_bash(), 400)
    assert program.read_text().startswith(f"#!{find_bash()} -p\n")  # -p: BASH_ENV and exported functions ignored
    assert oct(program.stat().st_mode & 0o777) == "0o755"
    assert "assistant-hook" == program.name and program.parent.name == "hooks"


def test_it_sends_the_fields_of_the_contract_and_prints_the_brokers_answer(session, tmp_path):
    broker = TinyBroker(tmp_path / "session", DENIED)
    program = write_program(session, "claude", find_bash(), 400)
    result = run_hook(program, CLAUDE_PAYLOAD, tmp_path)
    broker.close()
    assert broker.requests == [[broker.secret, "assistant", "3", "claude", str(tmp_path), json.dumps(CLAUDE_PAYLOAD)]]
    assert broker.judged == [("git push --force origin main", "/tmp")]  # the payload's cwd wins over the hook's
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny"
    assert "git.push.force" in decision["permissionDecisionReason"]
    assert "--force-with-lease" in decision["permissionDecisionReason"]


def test_an_allowed_command_leaves_claude_codes_own_permissions_in_charge(session, tmp_path):
    broker = TinyBroker(tmp_path / "session", Verdict(True))
    result = run_hook(write_program(session, "claude", find_bash(), 400), CLAUDE_PAYLOAD, tmp_path)
    broker.close()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hold_keeps_the_hook_waiting_past_the_first_answer_timeout(session, tmp_path):
    broker = TinyBroker(tmp_path / "session", APPROVED, hold_seconds=3.0)  # longer than the 2 s first-answer wait
    started = time.monotonic()
    result = run_hook(write_program(session, "claude", find_bash(), 400), CLAUDE_PAYLOAD, tmp_path)
    broker.close()
    assert time.monotonic() - started >= 3.0
    decision = json.loads(result.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "allow"
    assert "alice" in decision["permissionDecisionReason"] and "restart window" in decision["permissionDecisionReason"]


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_no_broker_means_refused_in_the_assistants_own_format(session, tmp_path, name):
    # A port nobody listens on: the launcher has gone.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "session" / "broker.port").write_text(f"{port}\n")
    (tmp_path / "session" / "broker.secret").write_text("x\n")
    result = run_hook(write_program(session, name, find_bash(), 400), PAYLOADS[name], tmp_path)
    assert result.returncode == 2
    assert "test-session-1" in result.stderr and "does not answer" in result.stderr
    answer = json.loads(result.stdout)
    said = json.dumps(answer)
    assert "deny" in said and "test-session-1" in said


def test_a_session_without_broker_files_refuses(session, tmp_path):
    result = run_hook(write_program(session, "gemini", find_bash(), 400), PAYLOADS["gemini"], tmp_path)
    assert result.returncode == 2
    assert json.loads(result.stdout)["decision"] == "deny"
    assert "no broker port file" in result.stderr


def test_a_broker_that_accepts_but_never_answers_is_refused_after_two_seconds(session, tmp_path):
    broker = TinyBroker(tmp_path / "session", DENIED, silent=True)
    started = time.monotonic()
    result = run_hook(write_program(session, "cursor", find_bash(), 400), PAYLOADS["cursor"], tmp_path)
    broker.close()
    assert 1.5 < time.monotonic() - started < 5
    assert result.returncode == 2
    assert json.loads(result.stdout)["permission"] == "deny"


def test_functions_and_bash_env_in_the_environment_cannot_hijack_it(session, tmp_path):
    broker = TinyBroker(tmp_path / "session", DENIED)
    trap = tmp_path / "trap.sh"
    trap.write_text("printf 'HIJACKED'; exit 0\n")
    program = write_program(session, "claude", find_bash(), 400)
    result = subprocess.run([str(program)], input=json.dumps(CLAUDE_PAYLOAD), capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "BASH_ENV": str(trap),
                                 "BASH_FUNC_printf%%": "() { echo HIJACKED; }"}, timeout=30)
    broker.close()
    assert "HIJACKED" not in result.stdout
    assert json.loads(result.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
