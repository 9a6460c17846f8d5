"""The policy core: a command (argv or shell text) and a policy in, a decision out. No I/O."""

from __future__ import annotations

import os
from typing import Sequence

from .context import Context
from .packs import ALL_RULES, BY_COMMAND, CORE_RULES
from .profile import Policy
from .shell import Command, Unparsable, parse_commands
from .verdict import Decision, Finding, Verdict


def program_name(word: str) -> str:
    return os.path.basename(word)


def judge_argv(argv: Sequence[str], policy: Policy, ctx: Context) -> list[Finding]:
    """Findings for one exact argv, as a stub receives it."""
    if not argv:
        return []
    pack = BY_COMMAND.get(program_name(argv[0]))
    if pack is None or not policy.pack_enabled(pack.name):
        return [Finding(tuple(argv), Verdict.ALLOW, "none", "no rule guards this program")]
    findings = []
    for hit in pack.classify(argv, ctx):
        rule = ALL_RULES[hit.rule]
        findings.append(Finding(tuple(argv), policy.verdict_for(rule), rule.id, rule.reason, rule.alternative, hit.detail))
    return findings


def _core(rule_id: str, argv: Sequence[str], policy: Policy, detail: str | None) -> Finding:
    rule = CORE_RULES[rule_id]
    return Finding(tuple(argv), policy.verdict_for(rule), rule.id, rule.reason, rule.alternative, detail)


def decide_argv(argv: Sequence[str], policy: Policy, ctx: Context) -> Decision:
    return Decision.combine(judge_argv(argv, policy, ctx))


def decide_text(text: str, policy: Policy, ctx: Context) -> Decision:
    """The verdict for a command string as a shell would run it: its strictest command's."""
    try:
        commands = parse_commands(text)
    except Unparsable as exc:
        return Decision.combine([_core("parse.unsupported", (text[:200],), policy, str(exc))])
    findings: list[Finding] = []
    for command in commands:
        findings.extend(judge_command(command, policy, ctx))
    return Decision.combine(findings)


def judge_command(command: Command, policy: Policy, ctx: Context) -> list[Finding]:
    if command.opaque:
        return [_core("shell.opaque", command.argv, policy, command.opaque)]
    return judge_argv(command.argv, policy, ctx)
