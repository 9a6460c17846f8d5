"""What a rule pack is: rules with stable ids, and a classifier from argv to rule hits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ..context import Context
from ..verdict import Rule, Verdict


@dataclass(frozen=True)
class Hit:
    """A rule that an argv matched, with what it touches."""

    rule: str
    detail: str | None = None


Classifier = Callable[[Sequence[str], Context], "list[Hit]"]


@dataclass(frozen=True)
class Pack:
    name: str
    description: str
    commands: frozenset[str]  # program basenames this pack judges
    rules: dict[str, Rule]
    classify: Classifier


def read_rule(rule_id: str, what: str) -> Rule:
    return Rule(rule_id, f"{what}: reads state, changes nothing", None, Verdict.ALLOW, Verdict.ALLOW)


def work_rule(rule_id: str, what: str) -> Rule:
    return Rule(rule_id, f"{what}: everyday work that destroys nothing", None, Verdict.ALLOW, Verdict.ALLOW)


def risky_rule(rule_id: str, reason: str, alternative: str | None = None,
               default: Verdict = Verdict.ASK, strict: Verdict = Verdict.DENY) -> Rule:
    return Rule(rule_id, reason, alternative, default, strict)
