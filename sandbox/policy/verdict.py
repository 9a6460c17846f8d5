"""Verdicts, rules and decisions: the vocabulary every layer speaks."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Verdict(str, enum.Enum):
    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Verdict.ALLOW: 0, Verdict.ASK: 1, Verdict.DENY: 2}
VERDICT_NAMES = tuple(v.value for v in Verdict)


@dataclass(frozen=True)
class Rule:
    """One kind of action, with what each built-in profile level says of it."""

    id: str
    reason: str
    alternative: str | None = None
    default: Verdict = Verdict.ASK
    strict: Verdict = Verdict.DENY

    def verdict_at(self, level: str) -> Verdict:
        return self.strict if level == "strict" else self.default


@dataclass(frozen=True)
class Finding:
    """The verdict for one command found in the input."""

    argv: tuple[str, ...]
    verdict: Verdict
    rule: str
    reason: str
    alternative: str | None = None
    detail: str | None = None  # e.g. the objects touched, or why it is opaque

    def to_json(self) -> dict:
        return {
            "argv": list(self.argv),
            "verdict": self.verdict.value,
            "rule": self.rule,
            "reason": self.reason,
            "alternative": self.alternative,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Decision:
    """The overall verdict: the strictest finding's, or allow when none is risky."""

    verdict: Verdict
    rule: str
    reason: str
    alternative: str | None = None
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @classmethod
    def combine(cls, findings: list[Finding] | tuple[Finding, ...]) -> "Decision":
        if not findings:
            return cls(Verdict.ALLOW, "none", "no command that a rule guards")
        worst = max(findings, key=lambda f: f.verdict.rank)  # first of the strictest
        return cls(worst.verdict, worst.rule, worst.reason, worst.alternative, tuple(findings))

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict.value,
            "rule": self.rule,
            "reason": self.reason,
            "alternative": self.alternative,
            "commands": [f.to_json() for f in self.findings],
        }
