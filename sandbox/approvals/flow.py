"""Ask: file an approval request with Wingman and wait for a human. Never runs on doubt."""

from __future__ import annotations

import time
from typing import Callable, TextIO

from .setup import session_settings
from . import ApprovalConfigError, ApprovalSubject
from . import ask as ask_wingman
from . import grants
from .targets import docker_targets
from ..policy import Decision, Finding, Verdict
from ..policy.packs import pack_of_rule
from ..policy.packs.docker import parse_targets


def ask(session, decision: Decision, *, layer: str, argv, cwd: str, shown: str, stream: TextIO,
        cancelled: Callable[[], bool] | None = None):
    """(allowed, approval record for the audit log, why it was refused).

    cancelled: polled while waiting; True (the client that asked has gone, as
    after Ctrl-C) refuses at once.
    """
    try:
        settings = session_settings(session.path)
    except ApprovalConfigError as exc:
        return False, {"status": "BROKEN_SETTINGS"}, f"the session's approval settings cannot be used: {exc}"
    finding = _deciding(decision, argv)
    subject = ApprovalSubject(
        argv=tuple(finding.argv), command_text=shown, cwd=cwd, session_id=session.id, assistant=session.assistant,
        host=session.host, layer=layer, rule=finding.rule, reason=finding.reason, alternative=finding.alternative,
        targets=_targets(session, finding), deployment_env=settings.deployment_env if settings else "development",
    )
    outcome = ask_wingman(settings, subject, session.path, hand_over=layer != "stub", stream=stream,
                          sleep=_cancellable_sleep(cancelled))
    if outcome.approved and layer != "stub" and outcome.request_id:
        # The other held commands of the same text were approved with it: hand them to the stub too.
        for other in decision.findings:
            if other.verdict is Verdict.ASK and other is not finding:
                grants.grant(session.path, other.argv, cwd, 0, outcome.request_id)
    record = {
        "request_id": outcome.request_id, "status": outcome.status, "decided_by": outcome.decided_by,
        "note": outcome.note, "risk": outcome.risk, "waited_seconds": round(outcome.waited_seconds, 3),
    }
    record = {k: v for k, v in record.items() if v is not None}
    if outcome.approved:
        return True, record, None
    if outcome.error:
        return False, record, outcome.error
    who = f" by {outcome.decided_by}" if outcome.decided_by else ""
    note = f": {outcome.note}" if outcome.note else ""
    return False, record, f"{outcome.status}{who}{note} (request {outcome.request_id})"


def _deciding(decision: Decision, argv) -> Finding:
    for finding in decision.findings:
        if finding.rule == decision.rule and finding.verdict is decision.verdict:
            return finding
    return Finding(tuple(argv), decision.verdict, decision.rule, decision.reason, decision.alternative)


def _targets(session, finding: Finding):
    real = session.real.get("docker")
    if pack_of_rule(finding.rule) != "docker" or not real:
        return ()
    kind, names = parse_targets(finding.argv)
    return docker_targets(real, session.docker_env, kind, names) if names else ()


def _cancellable_sleep(cancelled: Callable[[], bool] | None) -> Callable[[float], None]:
    """time.sleep, cut short by a client that went away: the wait then ends as after Ctrl-C."""
    def sleep(seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            if cancelled is not None and cancelled():
                raise KeyboardInterrupt
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.2))
    return sleep
