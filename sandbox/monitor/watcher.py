"""The monitor's loop: the daemon's events, judged against the audit logs, as they come.

A broken stream is retried every RETRY_SECONDS; once it is back, the time it
could not watch is reported as one gap, and the daemon is asked to replay from
the moment it broke (what it still holds is judged late rather than never).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from typing import Callable

from . import engine
from .decisions import Decisions
from .events import FOLLOW_SECONDS, WATCHED_ACTIONS, EngineEvent, History, parse_event
from .judge import Judgement, judge
from .tail import AuditTail

RETRY_SECONDS = 0.5


class Watcher:
    def __init__(self, daemon: engine.Daemon, tail: AuditTail, *,
                 on_unapproved: Callable[[Judgement], None],
                 on_gap: Callable[[float, float, str], None],
                 on_judgement: Callable[[Judgement], None] = lambda j: None,
                 session: str | None = None):
        """session: report only events on objects that session's decisions name (None: every event)."""
        self.daemon = daemon
        self.tail = tail
        self.on_unapproved, self.on_gap, self.on_judgement = on_unapproved, on_gap, on_judgement
        self.session = session
        self.decisions = Decisions()
        self.history = History()
        self.unapproved = 0
        self.last_time: float | None = None  # the daemon time of the last event seen
        self._stop = threading.Event()
        self._seen: deque = deque(maxlen=4096)
        self._seen_set: set = set()
        self.connected = threading.Event()
        self._sock = None
        self._reported: dict = {}

    def stop(self) -> None:
        self._stop.set()
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the stream's read at once
            except OSError:
                pass

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, since: float | None = None, until: float | None = None) -> int:
        """Watch until `until` (a past window ends by itself) or stop(); returns the unapproved count."""
        watched_from = since if since is not None else time.time()
        gap: tuple[float, str] | None = None
        resume = watched_from
        while not self._stop.is_set():
            opened_at: list[float] = []

            def opened(sock):
                self._sock = sock
                if self._stop.is_set():
                    sock.shutdown(socket.SHUT_RDWR)
                opened_at.append(time.time())
                self.connected.set()
                nonlocal gap
                if gap is not None:
                    self.on_gap(gap[0], opened_at[0], gap[1])
                    gap = None

            try:
                for raw in engine.events(self.daemon, since=resume, until=until, actions=WATCHED_ACTIONS,
                                         stopped=self._stop.is_set, opened=opened):
                    self.handle(raw)
                return self.unapproved  # until reached, or stopped
            except engine.EngineGone as exc:
                self.connected.clear()
                if self._stop.is_set():
                    break
                broke = time.time()
                if gap is None:
                    gap = (broke if opened_at else watched_from, str(exc))
                resume = gap[0]
                if until is not None and broke >= until and not opened_at:
                    break
                self._stop.wait(RETRY_SECONDS)
        if gap is not None:
            self.on_gap(gap[0], time.time() if until is None else min(until, time.time()), gap[1])
        return self.unapproved

    def catch_up(self) -> None:
        """After stop(): judge what the daemon emitted up to now and the stream had not delivered yet."""
        start = self.last_time if self.last_time is not None else time.time() - 1.0
        try:
            for raw in engine.events(self.daemon, since=start, until=time.time(), actions=WATCHED_ACTIONS):
                self.handle(raw)
        except engine.EngineGone:
            pass

    # -- one event --------------------------------------------------------------------------------

    def handle(self, raw: dict) -> Judgement | None:
        event = parse_event(raw)
        if event is None or self._duplicate(raw):
            return None
        self.last_time = max(self.last_time or 0.0, event.time)
        if event.kind == "container" and event.action == "create":
            self._learn_auto_remove(event)
        if event.kind == "container" and event.action == "start":
            self._reported.pop((event.kind, event.id), None)  # running again: its next stop is a new act
        for line in self.tail.read_new():
            self.decisions.add(line)
        judgement = judge(event, self.history, self.decisions)
        self.history.observe(event)
        if judgement is not None:
            self.on_judgement(judgement)
            if judgement.unapproved and self._in_scope(event) and not self._folded(event):
                self.unapproved += 1
                self.on_unapproved(judgement)
        return judgement

    def _in_scope(self, event: EngineEvent) -> bool:
        if self.session is None:
            return True
        if self.decisions.known_to(self.session, event):
            return True
        # A prune's own event names nothing: it is this session's when the session decided a prune.
        return event.action == "prune" and any(d.session == self.session and d.rule.endswith(".prune")
                                               for d in self.decisions.items.values())

    def _folded(self, event: EngineEvent) -> bool:
        """An object's further events right after an unapproved one are the same act (`docker stop` is a
        kill, another kill and a stop; `rm -f` a kill and a destroy): one report, not three."""
        key = (event.kind, event.id)
        last = self._reported.get(key)
        self._reported[key] = event.time
        if len(self._reported) > 4096:
            self._reported = {key: event.time}
        return last is not None and 0 <= event.time - last <= FOLLOW_SECONDS

    def _duplicate(self, raw: dict) -> bool:
        actor = raw.get("Actor") or {}
        key = (raw.get("timeNano"), raw.get("Type"), raw.get("Action"), actor.get("ID") if isinstance(actor, dict) else None)
        if key in self._seen_set:
            return True
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(key)
        self._seen_set.add(key)
        return False

    def _learn_auto_remove(self, event: EngineEvent) -> None:
        found = engine.get_json(self.daemon, f"/containers/{event.id}/json")
        if isinstance(found, dict):
            host = found.get("HostConfig") or {}
            self.history.set_auto_remove(event.id, bool(host.get("AutoRemove")))
