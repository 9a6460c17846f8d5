"""The edge between a decision and the world: audit it, ask for approval, tell the user.

Every layer's question comes through here, in the broker, so a command gets
the same treatment, and one approval request, whichever layer saw it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TextIO

from .. import audit
from ..policy import Context, Decision, Policy, Verdict
from ..policy.engine import program_name
from ..policy.profile import policy_from
from ..render import command_text, refusal
from ..session.record import Session


@dataclass
class GateResult:
    allowed: bool
    event_id: str
    decision: Decision
    approval: dict = field(default_factory=dict)


def session_policy(session: Session) -> Policy:
    return policy_from(session.profile)


def session_context(session: Session, cwd: str) -> Context:
    return Context(
        cwd=cwd, project_dir=session.project_dir, home=os.path.expanduser("~"),
        docker_host=session.docker_env.get("DOCKER_HOST"),
        docker_context=session.docker_env.get("DOCKER_CONTEXT"),
    )


def gate(session: Session, decision: Decision, *, layer: str, argv: Sequence[str], cwd: str,
         shown: str | None = None, stream: TextIO = sys.stderr,
         cancelled: Callable[[], bool] | None = None) -> GateResult:
    """Decide whether the command may run; audit the decision; print a refusal if not."""
    shown = shown or command_text(argv)
    allowed = decision.verdict is Verdict.ALLOW
    approval: dict = {}
    why_refused = None
    if decision.verdict is Verdict.ASK:
        allowed, approval, why_refused = _ask(session, decision, layer=layer, argv=argv, cwd=cwd, shown=shown, stream=stream,
                                             cancelled=cancelled)
    event = audit.decision_event(
        session=session.id, layer=layer, argv=argv, cwd=cwd, verdict=decision.verdict.value,
        rule=decision.rule, reason=None if allowed else decision.reason,
        approval=approval or None, command=shown if layer != "stub" else None,
    )
    if not allowed:
        event["exit"] = 1  # refused: nothing ran, and this is the status the caller sees
    try:
        audit.append(audit_path(session), event)
    except OSError as exc:
        stream.write(
            f"wingman-run: refused: {shown}\n  the audit log {session.audit_log} cannot be written ({exc.strerror});"
            " every decision must be recorded, so nothing runs until it can be.\n"
        )
        return GateResult(False, event["id"], decision, approval)
    if not allowed:
        asked = approval.get("status") not in (None, "NO_BACKEND")
        stream.write(refusal(decision, shown, why_refused=why_refused, profile=session.profile_name, asked=asked,
                             targets=_daemon_objects(session, decision, argv, layer)))
        stream.flush()
    return GateResult(allowed, event["id"], decision, approval)


def audit_path(session: Session) -> Path:
    return Path(session.audit_log)


def record_exit(session: Session, event_id: str, layer: str, status: int | None) -> None:
    """The end of a decision's command (status None: seen to end, status unknown); the command has run, so a
    log that cannot be written is reported, not refused."""
    try:
        audit.append(audit_path(session), audit.exit_event(session=session.id, layer=layer, event_id=event_id, status=status))
    except OSError as exc:
        sys.stderr.write(f"wingman-run: the exit status could not be written to {session.audit_log}: {exc.strerror}\n")


def _ask(session: Session, decision: Decision, *, layer: str, argv, cwd: str, shown: str, stream: TextIO,
         cancelled: Callable[[], bool] | None):
    """(allowed, approval record, why refused). Without an approval service, ask is a refusal."""
    from ..approvals.flow import ask  # imported only when a command is held: it pulls in the HTTP client

    return ask(session, decision, layer=layer, argv=argv, cwd=cwd, shown=shown, stream=stream, cancelled=cancelled)


def _daemon_objects(session: Session, decision: Decision, argv: Sequence[str], layer: str):
    """The objects a refused docker command names, as the daemon reports them (None: not a docker argv)."""
    real = session.real.get("docker")
    if layer == "guard" or not real or not decision.rule.startswith("docker.") or not argv:
        return None  # the guard names objects as the daemon's API path does already
    if program_name(argv[0]) not in ("docker", "podman"):
        return None
    from ..approvals.targets import touched_objects

    return touched_objects(real, session.docker_env, ["docker", *argv[1:]])
