"""Ask Wingman about one command and wait for the human: the whole `ask` round trip.

Fail closed: only an answer of APPROVED or AUTO_APPROVED from Wingman runs the
command. Every other path (rejection, expiry, timeout, Ctrl-C, Wingman down, a
key refused, an answer we do not understand) ends in a refusal that says why.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import asdict, dataclass
from typing import Callable, TextIO

from .client import APPROVED_STATUSES, DECIDE_KEY_HEADER, PENDING, WingmanClient, WingmanError
from .config import DECIDE_KEY_ENV, LEGACY_KEY_ENV, WingmanSettings
from .display import WaitDisplay
from .instruction import ApprovalSubject, build_instruction, task_name, worker_id

# While polling, a network blip or a 5xx is retried for this long before we give up and refuse.
POLL_GRACE_SECONDS = 6.0
LIVE_TICK_SECONDS = 1.0


@dataclass(frozen=True)
class Outcome:
    approved: bool
    status: str  # APPROVED, AUTO_APPROVED, REJECTED, AUTO_REJECTED, EXPIRED, TIMEOUT, CANCELLED, ERROR
    request_id: str | None
    decided_by: str | None
    note: str | None
    risk: str | None
    waited_seconds: float
    error: str | None
    deduped: bool = False

    def describe(self) -> str:
        """One line for the user and the assistant."""
        if self.approved:
            text = f"approved ({self.status}) by {self.decided_by or 'Wingman'}"
        elif self.status == "ERROR":
            text = f"refused: no decision could be obtained: {self.error}"
        elif self.status == "TIMEOUT":
            text = f"refused: no decision within {self.waited_seconds:.0f} s"
        elif self.status == "CANCELLED":
            text = "refused: cancelled while waiting for approval"
        else:
            text = f"refused: {self.status}" + (f" by {self.decided_by}" if self.decided_by else "")
        if self.note:
            text += f"; note: {self.note}"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text

    def to_json(self) -> dict:
        return asdict(self)


def short_prefix(request_id: str) -> str:
    """What Wingman's Telegram bot shows and accepts: the first group of the UUID."""
    return request_id.split("-", 1)[0]


def build_payload(settings: WingmanSettings, subject: ApprovalSubject) -> dict:
    return {
        "instruction": build_instruction(subject),
        "worker_id": worker_id(subject),
        "task_name": task_name(subject),
        "deployment_env": subject.deployment_env or settings.deployment_env,
    }


def approve_hint(settings: WingmanSettings, request_id: str) -> str:
    """The curl command a human can paste to approve; it names the key's variable, never its value."""
    if settings.legacy_key and not (settings.request_key or settings.read_key):
        header = f'-H "X-Wingman-Approval-Key: ${LEGACY_KEY_ENV}" '
    elif settings.request_key or settings.read_key:
        header = f'-H "{DECIDE_KEY_HEADER}: ${DECIDE_KEY_ENV}" '
    else:
        header = ""
    url = f"{settings.url}/approvals/{request_id}/approve"
    return ("curl -X POST -H 'Content-Type: application/json' " + header
            + "-d '{\"decided_by\": \"'\"$USER\"'\", \"note\": \"ok\"}' " + shlex.quote(url))


def request_approval(settings: WingmanSettings, subject: ApprovalSubject, *, stream: TextIO,
                     tty: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """File the request, wait for the decision, return it. Never raises; keys never appear in output."""
    display = WaitDisplay(stream, tty)
    start = clock()
    state = {"request_id": None, "risk": None, "deduped": False}

    def outcome(approved: bool, status: str, *, decided_by=None, note=None, error=None) -> Outcome:
        display.finish()
        result = Outcome(
            approved=approved, status=status, request_id=state["request_id"], decided_by=decided_by,
            note=settings.redact(note) if note else None, risk=state["risk"],
            waited_seconds=round(max(0.0, clock() - start), 3),
            error=settings.redact(error) if error else None, deduped=state["deduped"])
        display.say("wingman-run: " + result.describe())
        return result

    try:
        return _round_trip(settings, subject, display, clock, sleep, start, state, outcome)
    except KeyboardInterrupt:
        result = outcome(False, "CANCELLED")
        if state["request_id"]:
            display.say(f"wingman-run: request {state['request_id']} stays open in Wingman; reject it there "
                        f"if nobody should act on it")
        return result
    except Exception as exc:  # the last line of fail-closed: a bug of ours refuses, it never runs the command
        return outcome(False, "ERROR", error=f"internal error while asking Wingman ({type(exc).__name__})")


def _round_trip(settings, subject, display, clock, sleep, start, state, outcome) -> Outcome:
    client = WingmanClient(settings)
    name = task_name(subject)
    display.say(f"wingman-run: `{name}` needs a human decision ({subject.rule}: {subject.reason}); "
                f"asking Wingman at {settings.url}")
    try:
        submitted = client.submit(build_payload(settings, subject))
    except WingmanError as exc:
        return outcome(False, "ERROR", error=exc.message)

    state["request_id"] = submitted.request_id
    state["risk"] = submitted.risk_level
    state["deduped"] = submitted.deduped
    if submitted.status == "AUTO_REJECTED":
        return outcome(False, "AUTO_REJECTED", decided_by="wingman (automatic)", note=submitted.reason)
    if submitted.status == "AUTO_APPROVED":
        return outcome(True, "AUTO_APPROVED", decided_by="wingman (automatic)", note=submitted.risk_reason)

    request_id = submitted.request_id
    prefix = short_prefix(request_id)
    if submitted.deduped:
        display.say(f"wingman-run: the same request is already pending; joining it: {request_id}")
    else:
        display.say(f"wingman-run: request {request_id} filed")
    risk = submitted.risk_level or "unknown"
    if submitted.risk_reason:
        risk += f" ({submitted.risk_reason})"
    display.say(f"  risk: {risk}")
    display.say(f"  approve in Telegram: /approve {prefix}    reject: /reject {prefix} <note>")
    display.say(f"  or over HTTP: {approve_hint(settings, request_id)}")
    display.say(f"  waiting up to {settings.timeout_seconds:g} s; Ctrl-C refuses")

    deadline = start + settings.timeout_seconds
    next_poll = clock() + settings.poll_seconds
    failing_since = None
    live_label = f"approval {prefix}"
    while True:
        now = clock()
        if now >= deadline:
            return outcome(False, "TIMEOUT", error=f"no decision within {settings.timeout_seconds:g} s "
                                                   f"(request {request_id} may still be pending in Wingman)")
        display.tick(now - start, live_label)
        if now >= next_poll:
            try:
                current = client.fetch(request_id)
            except WingmanError as exc:
                if not exc.transient:
                    return outcome(False, "ERROR", error=exc.message)
                failing_since = now if failing_since is None else failing_since
                if clock() - failing_since >= POLL_GRACE_SECONDS:
                    return outcome(False, "ERROR", error=exc.message)
            else:
                failing_since = None
                if current.risk_level and not state["risk"]:
                    state["risk"] = current.risk_level
                if current.status != PENDING:
                    approved = current.status in APPROVED_STATUSES
                    return outcome(approved, current.status, decided_by=current.decided_by, note=current.note)
            next_poll = clock() + settings.poll_seconds
        now = clock()
        sleep(max(0.01, min(LIVE_TICK_SECONDS, next_poll - now, deadline - now)))
