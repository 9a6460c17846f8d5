"""One call for a layer that says `ask`: reuse a grant, or ask Wingman, record it, hand it on.

One request per command, not one per layer: the layer that asks first (the shell
hook) hands the approval over to the next one (the docker stub), which finds
the grant for the same argv and cwd and runs without asking again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, TextIO

from . import grants, ledger
from .config import URL_ENV, WingmanSettings
from .instruction import ApprovalSubject
from .wait import Outcome, request_approval


def ask(settings: WingmanSettings | None, subject: ApprovalSubject, session_dir: Path, *, hand_over: bool,
        stream: TextIO, tty: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """hand_over: True when a later layer will see this same argv (the shell hook before the stub)."""
    granted = grants.take(session_dir, subject.argv, subject.cwd)
    if granted:
        if hand_over:  # the assistant's hook approved it: the shell hook passes it on to the stub
            grants.grant(session_dir, subject.argv, subject.cwd, 0, granted)
        return Outcome(approved=True, status="GRANTED", request_id=granted, decided_by=None,
                       note="approved earlier in this session", risk=None, waited_seconds=0.0, error=None)
    if settings is None:
        outcome = Outcome(approved=False, status="NO_BACKEND", request_id=None, decided_by=None, note=None,
                          risk=None, waited_seconds=0.0,
                          error=f"no approval service is configured, so ask means deny: set approvals.wingman.url "
                                f"in the profile or {URL_ENV}")
    else:
        outcome = request_approval(settings, subject, stream=stream, tty=tty, clock=clock, sleep=sleep)
    try:
        ledger.record(session_dir, subject, outcome)
    except (OSError, ValueError) as exc:  # the list `wingman-sandbox approvals` shows; the audit log still gets it
        stream.write(f"wingman-run: warning: this request is missing from the session's approval list ({exc})\n")
    reuse = settings.reuse_seconds if settings else 0
    if outcome.approved and outcome.request_id and (hand_over or reuse > 0):
        grants.grant(session_dir, subject.argv, subject.cwd, reuse, outcome.request_id)
    return outcome
