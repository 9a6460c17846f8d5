"""What the user (or the assistant) reads when a command is refused. Pure text."""

from __future__ import annotations

import shlex
from typing import Sequence

from .approvals.instruction import Target
from .policy.verdict import Decision, Verdict


def command_text(argv) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def refusal(decision: Decision, shown: str, *, why_refused: str | None = None, profile: str | None = None,
            asked: bool = False, targets: Sequence[Target] | None = None) -> str:
    """One block: what was refused, the rule, why, the safer way, and how to get it approved.

    targets: the objects as the daemon reports them (approvals.targets.touched_objects); given,
    the block names only objects that exist and says "no such container" for the rest."""
    lines = [f"wingman-run: refused: {shown}"]
    lines.append(f"  rule:     {decision.rule} ({decision.verdict.value})")
    lines.append(f"  why:      {decision.reason}")
    if targets:
        for index, target in enumerate(targets):
            lines.append(f"  {'touches:' if index == 0 else '':9} {target.describe()}")
    else:
        detail = next((f.detail for f in decision.findings if f.rule == decision.rule and f.detail), None)
        if detail:
            lines.append(f"  touches:  {detail}")
    if why_refused:
        lines.append(f"  refused:  {why_refused}")
    if decision.alternative:
        lines.append(f"  instead:  {decision.alternative}")
    lines.extend(_how_to_approve(decision, profile, asked))
    return "\n".join(lines) + "\n"


def _how_to_approve(decision: Decision, profile: str | None, asked: bool) -> list[str]:
    if decision.verdict is Verdict.ASK and asked:
        return [
            "  approve:  run it again to file a new request, and have a human approve it in Wingman;",
            f"            or allow the rule in the project's .wingman.yaml:  rules: {{{decision.rule}: allow}}",
        ]
    if decision.verdict is Verdict.ASK:
        return [
            "  approve:  start wingman-run with WINGMAN_API_URL (and its keys) set, and a human approves",
            "            the request in Wingman; or allow the rule in the project's .wingman.yaml:",
            f"              rules: {{{decision.rule}: allow}}",
        ]
    where = f" (profile: {profile})" if profile else ""
    return [
        f"  approve:  this rule is deny{where}: no approval can run it. A human may run it",
        f"            outside the session, or set  rules: {{{decision.rule}: ask}}  in .wingman.yaml",
    ]
