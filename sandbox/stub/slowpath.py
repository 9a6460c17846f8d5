"""The docker stub's slow path, served by the broker: the policy core judges the exact argv.

The stub sends its argv and the daemon variables set in its environment; the
broker decides, and the stub runs the real program itself when allowed.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from ..policy import Decision, Finding, Policy
from ..policy.context import DAEMON_VARIABLES, Context
from ..policy.engine import judge_argv
from ..policy.packs import ALL_RULES


def parse_environment(text: str) -> dict[str, str]:
    """NAME=VALUE lines, as the stub sends the daemon variables it has set."""
    out = {}
    for line in text.split("\n"):
        name, sep, value = line.partition("=")
        if sep and name in DAEMON_VARIABLES:
            out[name] = value
    return out


def environment_findings(argv: Sequence[str], environ: Mapping[str, str], recorded: Mapping[str, str],
                         policy: Policy) -> list[Finding]:
    """A daemon variable set inside the session to anything but what it recorded is a daemon override."""
    rule = ALL_RULES["docker.host.override"]
    out = []
    for name in DAEMON_VARIABLES:
        value = environ.get(name)
        if value and value != recorded.get(name):
            out.append(Finding(tuple(argv), policy.verdict_for(rule), rule.id, rule.reason, rule.alternative,
                               f"{name}={value}"))
    return out


def decide_call(argv: Sequence[str], environ: Mapping[str, str], recorded: Mapping[str, str], policy: Policy,
                ctx: Context) -> Decision:
    findings = judge_argv(argv, policy, ctx) + environment_findings(argv, environ, recorded, policy)
    return Decision.combine(findings)
