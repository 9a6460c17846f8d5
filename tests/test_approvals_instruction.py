"""The instruction and names we send to Wingman: pure functions, checked against our stand-in validator."""

from __future__ import annotations

import json
import re

import pytest

from sandbox.approvals.instruction import (
    SECTIONS, ApprovalSubject, Target, build_instruction, reversibility, task_name, worker_id,
)
from wingman_server import score_instruction


def subject(argv=("docker", "stop", "victim"), rule="docker.container.stop", targets=None, **overrides):
    values = dict(
        argv=tuple(argv), command_text=" ".join(argv), cwd="/home/dev/shop", session_id="s-4f9a2c",
        assistant="claude", host="devbox", layer="docker stub", rule=rule,
        reason="stops a running container; whatever it serves goes down",
        alternative="docker ps / docker logs to diagnose",
        targets=(Target("container", "victim", "8f72ed9d0b2a7b7830fb83a0d69f16b5", "state running; image app:1"),)
        if targets is None else tuple(targets),
        deployment_env="development",
    )
    values.update(overrides)
    return ApprovalSubject(**values)


def sections(text: str) -> dict[str, str]:
    headers = list(re.finditer(r"^(" + "|".join(SECTIONS) + r"):", text, re.M))
    return {m.group(1): text[m.end(): headers[i + 1].start() if i + 1 < len(headers) else len(text)].strip()
            for i, m in enumerate(headers)}


def test_task_name_is_short_and_worker_id_names_assistant_and_host():
    assert task_name(subject()) == "docker stop victim"
    long = subject(argv=("docker", "rm", *[f"container-{i}" for i in range(30)]))
    assert len(task_name(long)) <= 80 and task_name(long).endswith("...")
    assert worker_id(subject()) == "wingman-run/claude@devbox"


def test_every_section_is_a_line_header_with_real_content():
    found = sections(build_instruction(subject()))
    assert list(found) == list(SECTIONS)
    for name, content in found.items():
        assert len(content.split()) >= 15, name


def test_instruction_carries_the_facts_a_human_needs():
    text = build_instruction(subject())
    assert "`docker stop victim`" in text  # exact command, as Wingman's gateway looks for it
    assert json.dumps(["docker", "stop", "victim"]) in text
    assert "/home/dev/shop" in text and "s-4f9a2c" in text and "devbox" in text
    assert "container victim (id 8f72ed9d0b2a)" in text and "state running" in text
    assert "docker.container.stop" in text and "stops a running container" in text
    assert "docker start victim" in text  # how to undo
    assert "docker ps / docker logs" in text  # the safer alternative


def test_instruction_shows_what_was_typed_when_it_differs_from_argv():
    text = build_instruction(subject(command_text='D=docker; $D stop "victim"'))
    assert 'As typed in the shell: `D=docker; $D stop "victim"`' in text


def test_instruction_names_no_url_or_credential():
    text = build_instruction(subject()).lower()
    assert "http" not in text and "key" not in text and "password" not in text


@pytest.mark.parametrize("rule,reversible", [
    ("docker.container.stop", True), ("docker.container.rm", False), ("docker.volume.rm", False),
    ("docker.system.prune", False), ("docker.network.rm", True), ("docker.swarm.leave", None),
])
def test_reversibility_by_rule(rule, reversible):
    assert reversibility(subject(rule=rule))[0] is reversible


def test_irreversible_actions_say_so():
    text = build_instruction(subject(argv=("docker", "volume", "rm", "keep-vol"), rule="docker.volume.rm",
                                     targets=[Target("volume", "keep-vol", None, "driver local")]))
    assert "Reversible: NO" in text and "Level HIGH" in text and "only a backup made before" in text


def test_commands_without_named_objects_still_explain_scope():
    text = build_instruction(subject(argv=("docker", "system", "prune", "-af"), rule="docker.system.prune",
                                     targets=[]))
    assert "no single named object" in text


def test_our_instruction_passes_the_validator_and_a_bare_command_does_not():
    for s in (subject(), subject(argv=("docker", "system", "prune", "-af", "--volumes"), rule="docker.system.prune",
                                 targets=[])):
        assert score_instruction(build_instruction(s))["recommendation"] != "REJECT"
    assert score_instruction("docker stop db")["recommendation"] == "REJECT"
