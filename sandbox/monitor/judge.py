"""One engine event against what the monitor knows: unapproved, or why not. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from .decisions import Decision, Decisions
from .events import EngineEvent, History, engine_cause


@dataclass(frozen=True)
class Judgement:
    event: EngineEvent
    unapproved: bool
    why: str
    decision: Decision | None = None  # the decision that let it happen
    closest: Decision | None = None   # for an unapproved event: the nearest decision naming the object


def judge(event: EngineEvent, history: History, decisions: Decisions) -> Judgement | None:
    """None for an event that changes nothing (create, start, a read)."""
    if not event.destructive:
        return None
    cause = engine_cause(event, history)
    if cause is not None:
        return Judgement(event, False, cause)
    decision = decisions.covering(event)
    if decision is not None:
        return Judgement(event, False, f"{decision.layer} decision {decision.id} ({decision.rule}, "
                                       f"{decision.status or decision.verdict})", decision)
    return Judgement(event, True, "no decision of any layer let it run", None, decisions.closest(event))
