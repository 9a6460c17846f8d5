"""The session's monitor: a thread of the launcher, started with the broker and stopped when the command ends.

A thread rather than a process like the guard: it writes through the same audit
writer as the broker (one writer per session), needs no start-up of its own, and
ends with the launcher. It connects straight to the daemon the session recorded,
outside the isolation, never through the guard.

It reports what happens to the objects the session knows: those a decision of
this session names (`docker inspect db` and a refused `docker stop db` alike).
The daemon does not say who asked, so without that scope every session on a
daemon would report everyone's work; `wingman-sandbox monitor` watches it all.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from ..guard.endpoints import UnsupportedDaemon
from ..session.record import Session
from .engine import resolve_daemon
from .report import Reporter, gap_event, unapproved_event
from .tail import AuditTail
from .watcher import Watcher

BACKLOG_BYTES = 1 << 20  # decisions of the last moments before the session started, from any session
STOP_SECONDS = 2.0


class SessionMonitor:
    def __init__(self, session: Session, terminal=None):
        self.session = session
        self.daemon = resolve_daemon(session.docker_env)  # raises UnsupportedDaemon
        self.reporter = Reporter(Path(session.audit_log), terminal=terminal, wingman=_wingman(session),
                                 worker_id=session.id)
        where = self.daemon.describe()
        self.watcher = Watcher(
            self.daemon, AuditTail([session.audit_log], backlog_bytes=BACKLOG_BYTES),
            on_unapproved=lambda j: self.reporter.report(unapproved_event(j, session.id, where)),
            on_gap=lambda start, end, why: self.reporter.report(gap_event(session.id, where, start, end, why)),
            session=session.id)
        self.thread = threading.Thread(target=self.watcher.run, name="wingman-monitor", daemon=True)

    def start(self) -> "SessionMonitor":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.watcher.stop()
        self.thread.join(STOP_SECONDS)
        self.watcher.catch_up()
        self.reporter.drain()


def _wingman(session: Session):
    from ..approvals.config import ApprovalConfigError
    from ..approvals.setup import session_settings

    try:
        return session_settings(Path(session.dir))
    except ApprovalConfigError:
        return None


def start_monitor(session: Session, terminal=None) -> SessionMonitor | None:
    """The running monitor, or None (with one warning line) when the session's daemon cannot be watched."""
    terminal = terminal if terminal is not None else sys.stderr
    try:
        return SessionMonitor(session, terminal).start()
    except UnsupportedDaemon as exc:
        terminal.write(f"wingman-run: warning: the monitor cannot watch this daemon ({exc}); "
                       "bypasses of the other layers will not be reported\n")
        return None


def stop_monitor(monitor: SessionMonitor | None) -> None:
    if monitor is not None:
        monitor.stop()
