"""The engine's contract: profiles, packs switched off, findings, argv from stubs, failing closed."""

from __future__ import annotations

import time

import pytest

from sandbox.policy import Context, Policy, Verdict, decide_argv, decide_text
from sandbox.policy.engine import judge_argv
from sandbox.policy.packs import ALL_RULES, PACKS
from sandbox.policy.shell import parse_commands
from sandbox.policy.unwrap import expand

CTX = Context(cwd="/work/project", project_dir="/work/project", home="/home/dev")


def test_strict_profile_denies_what_default_asks():
    assert decide_text("git push --force", Policy(), CTX).verdict == Verdict.ASK
    assert decide_text("git push --force", Policy(level="strict"), CTX).verdict == Verdict.DENY
    assert decide_text("D=docker; $D stop x", Policy(level="strict"), CTX).verdict == Verdict.DENY


def test_catastrophes_are_denied_at_every_level():
    for level in ("default", "strict"):
        assert decide_text("rm -rf /", Policy(level=level), CTX).verdict == Verdict.DENY


@pytest.mark.parametrize("pack, command", [
    ("docker", "docker stop victim"), ("git", "git reset --hard"), ("filesystem", "rm -rf ~/Documents"),
    ("kube", "kubectl delete ns prod"), ("database", "dropdb shop"), ("infra", "terraform destroy"),
    ("system", "systemctl stop nginx"),
])
def test_every_pack_can_be_switched_off(pack, command):
    assert decide_text(command, Policy(), CTX).verdict != Verdict.ALLOW
    off = Policy(packs={pack: False})
    decision = decide_text(command, off, CTX)
    assert decision.verdict == Verdict.ALLOW, decision.to_json()
    assert decide_argv(command.split(), off, CTX).verdict == Verdict.ALLOW


def test_rule_verdicts_follow_the_profile_by_id_and_glob():
    policy = Policy(rules={"git.push.force": Verdict.ALLOW, "git.*": Verdict.DENY})
    assert decide_text("git push -f", policy, CTX).verdict == Verdict.ALLOW
    assert decide_text("git reset --hard", policy, CTX).verdict == Verdict.DENY
    assert decide_text("git status", policy, CTX).verdict == Verdict.DENY  # the glob covers read rules too


def test_tampering_without_a_guarded_program_is_allowed_unless_the_pack_is_off():
    assert decide_text("env -i make test", Policy(), CTX).verdict == Verdict.ALLOW
    assert decide_text("env -i git status", Policy(), CTX).rule == "hook.tamper"
    assert decide_text("env -i git status", Policy(packs={"git": False}), CTX).verdict == Verdict.ALLOW


def test_findings_carry_the_unwrapped_argv():
    decision = decide_text("sudo -u x docker stop victim", Policy(), CTX)
    assert decision.rule == "docker.container.stop"
    assert decision.findings[0].argv == ("docker", "stop", "victim")
    assert "sudo" in decision.findings[0].detail


def test_json_lists_every_command():
    data = decide_text("git status && docker ps && docker stop victim", Policy(), CTX).to_json()
    assert data["verdict"] == "ask"
    assert [c["rule"] for c in data["commands"]] == ["git.read", "docker.container.ls", "docker.container.stop"]
    assert data["commands"][2]["argv"] == ["docker", "stop", "victim"]


def test_decide_argv_judges_the_exact_argv():
    assert decide_argv(["docker", "ps", "--format", "{{.Names}}"], Policy(), CTX).verdict == Verdict.ALLOW
    assert decide_argv(["/usr/bin/docker", "rm", "-f", "victim"], Policy(), CTX).rule == "docker.container.rm"
    # Words of an argv are literal: no shell runs them again.
    assert decide_argv(["docker", "logs", "$(docker stop x)"], Policy(), CTX).verdict == Verdict.ALLOW
    assert decide_argv([], Policy(), CTX).verdict == Verdict.ALLOW
    assert judge_argv(["git", "push", "-f"], Policy(), CTX)[0].rule == "git.push.force"


def test_our_docker_host_is_no_override():
    ours = Context(cwd="/p", project_dir="/p", home="/h", docker_host="unix:///run/user/1000/docker.sock")
    assert decide_text("DOCKER_HOST=unix:///run/user/1000/docker.sock docker ps", Policy(), ours).verdict == Verdict.ALLOW
    assert decide_text("DOCKER_HOST=unix:///var/run/docker.sock docker ps", Policy(), ours).rule == "docker.host.override"


@pytest.mark.parametrize("text", [
    "echo " + "a" * 1_000_000,
    "$(" * 10_000 + "x" + ")" * 10_000,
    "echo " + "$(" * 10_000,
    "a;" * 60_000,
    '"' * 100_000,
    "`" * 10_001,
])
def test_pathological_input_is_refused_fast(text):
    start = time.perf_counter()
    decision = decide_text(text, Policy(), CTX)
    assert time.perf_counter() - start < 0.1
    assert decision.verdict == Verdict.DENY
    assert decision.rule == "parse.unsupported"


def test_broken_text_that_names_no_guarded_program_is_not_refused():
    assert decide_text('echo "unterminated', Policy(), CTX).verdict == Verdict.ALLOW
    assert decide_text('docker ps; echo "unterminated $(docker stop x', Policy(), CTX).verdict == Verdict.DENY


def test_non_text_input_is_refused_not_raised():
    assert decide_text(None, Policy(), CTX).verdict == Verdict.DENY  # type: ignore[arg-type]


def test_parse_finds_commands_in_every_construct():
    text = ("a $(b) `c` <(d); (e); { f; }; g() { h; }; for x in y; do i; done; if j; then k; fi; "
            "while l; do m; done; case z in p) n;; esac; o | q && r || s")
    names = [c.argv[0] for c in parse_commands(text) if c.kind == "simple"]
    assert set("abcdefhijklmnoqrs") <= set(names)


def test_wrappers_are_kept_for_tamper_checks():
    kinds = [(c.kind, c.argv[0]) for c in expand(parse_commands("sudo env -i docker ps")[0])]
    assert kinds == [("wrapper", "sudo"), ("wrapper", "env"), ("simple", "docker")]


def test_every_rule_has_a_reason_and_a_pack_prefix():
    for pack in PACKS.values():
        for rule_id, rule in pack.rules.items():
            assert rule.reason and rule_id == rule.id
            prefix = {"filesystem": "fs", "database": "db"}.get(pack.name, pack.name)
            assert rule_id.startswith(prefix + ".")
    assert {"shell.opaque", "parse.unsupported", "hook.tamper"} <= set(ALL_RULES)


def test_characters_that_crash_the_parser_are_kept_away_from_it():
    # tree-sitter-bash segfaulted, now and then, on a brace next to a plane 12-16 code point.
    for _ in range(300):
        decide_text("{\U000f56b8}", Policy(), CTX)
        decide_text("{\U000c688a", Policy(), CTX)
    decision = decide_text("git commit -m '\U0001f389 release' && docker rm -f v\u00e9", Policy(), CTX)
    assert decision.rule == "docker.container.rm"
    assert decision.findings[-1].argv == ("docker", "rm", "-f", "v\u00e9")
