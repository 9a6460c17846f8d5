"""What the monitor says about an unapproved event or a gap: the audit event, the terminal line, Wingman's claim.

The event shapes are pure; `Reporter` does the I/O. The audit event is written
at once (it is the record); the terminal line and Wingman's claim go through a
worker thread with a bounded queue, so a slow Wingman or a terminal nobody reads
never holds up watching.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from .. import audit
from .decisions import iso
from .judge import Judgement

CLAIM_PATH = "/log_claim"
QUEUE_LIMIT = 256


def unapproved_event(judgement: Judgement, session: str, daemon: str) -> dict:
    ev = judgement.event
    out = {
        "time": audit.now_iso(), "event": "unapproved", "id": audit.new_event_id(session), "session": session,
        "layer": "monitor", "daemon": daemon, "action": f"{ev.kind} {ev.action}", "object": ev.name or ev.id,
        "object_id": ev.id, "event_time": iso(ev.time), "why": judgement.why,
    }
    if ev.attributes.get("signal"):
        out["signal"] = ev.attributes["signal"]
    if ev.attributes.get("exitCode"):
        out["exit_code"] = ev.attributes["exitCode"]
    if judgement.closest is not None:
        out["closest"] = judgement.closest.summary()
    return out


def gap_event(session: str, daemon: str, start: float, end: float, reason: str) -> dict:
    return {
        "time": audit.now_iso(), "event": "unwatched", "id": audit.new_event_id(session), "session": session,
        "layer": "monitor", "daemon": daemon, "from": iso(start), "to": iso(end), "reason": reason,
        "message": f"not watched from {iso(start)} to {iso(end)}",
    }


def terminal_line(event: dict) -> str:
    if event["event"] == "unwatched":
        return f"wingman-run: monitor: the daemon {event['daemon']} was {event['message']} ({event['reason']})"
    line = (f"wingman-run: UNAPPROVED: {event['action']} {event['object']} at {_clock(event['event_time'])} "
            f"on {event['daemon']}: no decision of any layer allowed it")
    closest = event.get("closest")
    if closest:
        line += (f" (closest: {closest['layer']} {closest.get('approval') or closest['verdict']} "
                 f"{closest['rule']} at {_clock(closest['time'])})")
    return line


def claim_text(event: dict) -> str:
    """The claim Wingman records: who, what, which object, when, and that nobody approved it."""
    text = (f"UNAPPROVED DOCKER ACTION: {event['action']} of {event['object']} (id {event['object_id'][:19]}) "
            f"on daemon {event['daemon']} at {event['event_time']}, in wingman-run session {event['session']}. "
            f"No allowed or approved decision of the stub, hooks, guard or assistant hook covered it: "
            f"something bypassed every layer.")
    closest = event.get("closest")
    if closest:
        text += (f" Closest decision: {closest['layer']} {closest.get('approval') or closest['verdict']} "
                 f"{closest['rule']} `{closest['command']}` at {closest['time']}.")
    return text


def _clock(stamp: str) -> str:
    return stamp[11:19] if len(stamp) >= 19 else stamp


class Reporter:
    """Writes each report to the audit log, the terminal and Wingman, as configured."""

    def __init__(self, audit_log: Path | None, *, terminal=None, wingman=None, worker_id: str = ""):
        self.audit_log = audit_log
        self.terminal = terminal  # a text stream (the launcher's stderr), or None
        self.wingman = wingman    # WingmanSettings, or None
        self.worker_id = worker_id
        self.errors: list[str] = []
        self._queue: queue.Queue = queue.Queue(QUEUE_LIMIT)
        self._worker = threading.Thread(target=self._work, name="wingman-monitor-report", daemon=True)
        self._worker.start()

    def report(self, event: dict) -> None:
        if self.audit_log is not None:
            try:
                audit.append(self.audit_log, event)
            except OSError as exc:
                self._note(f"the audit log {self.audit_log} cannot be written ({exc.strerror})")
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            pass  # the record is in the audit log; the terminal and Wingman fell behind

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until queued terminal lines and claims are out (at the session's end)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            try:
                self._say(terminal_line(event))
                if self.wingman is not None and event["event"] == "unapproved":
                    self._claim(event)
            finally:
                self._queue.task_done()

    def _say(self, line: str) -> None:
        if self.terminal is None:
            return
        try:
            raw = self.terminal.isatty()
        except (OSError, ValueError):
            raw = False
        try:
            # The launcher's terminal is in raw mode while the command runs: return the carriage too.
            self.terminal.write(("\r" + line + "\r\n") if raw else line + "\n")
            self.terminal.flush()
        except (OSError, ValueError):
            pass

    def _claim(self, event: dict) -> None:
        from ..approvals.client import REQUEST_KEY_HEADER, LEGACY_KEY_HEADER, WingmanClient, WingmanError

        settings = self.wingman
        headers = {}
        if settings.request_key:
            headers[REQUEST_KEY_HEADER] = settings.request_key
        if settings.legacy_key:
            headers[LEGACY_KEY_HEADER] = settings.legacy_key
        payload = {"worker_id": self.worker_id, "claim": claim_text(event)}
        try:
            code, body = WingmanClient(settings)._call("POST", CLAIM_PATH, headers, payload)
        except WingmanError as exc:
            self._note(f"Wingman did not record the claim: {exc.message}")
            return
        if code != 200 or not isinstance(body, dict) or body.get("status") != "logged":
            self._note(f"Wingman did not record the claim ({code} at {settings.url}{CLAIM_PATH})")

    def _note(self, message: str) -> None:
        self.errors.append(message)
        self._say(f"wingman-run: monitor: {message}")
