"""wingman-sandbox monitor: the same watcher outside any session, for a whole host or a CI runner.

    wingman-sandbox monitor [--since T] [--until T] [--audit PATH]... [--json]

It reads every session's decisions (the default audit log, or each --audit
PATH) and watches the daemon docker would use here (DOCKER_HOST, else the
current context). With --until it checks a past window and ends; the exit
status is 1 when anything was unapproved, 0 when nothing was, 2 when the
daemon could not be watched. It prints; it writes nothing to the audit log.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from datetime import datetime, timezone

from .. import audit
from ..guard.endpoints import UnsupportedDaemon
from ..session.launch import recorded_docker_env
from .engine import ping, resolve_daemon
from .report import gap_event, terminal_line, unapproved_event
from .tail import AuditTail
from .watcher import Watcher

_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class BadTime(ValueError):
    pass


def parse_when(text: str, now: float) -> float:
    """Seconds since the epoch from `1700000000`, `2026-11-30T09:00:00Z` or `10m` (ago)."""
    text = text.strip()
    match = _RELATIVE.fullmatch(text)
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadTime(f"cannot read the time {text!r}: give seconds since the epoch, an ISO time "
                      f"(2026-11-30T09:00:00Z) or a duration ago (30s, 10m, 2h)") from None
    if stamp.tzinfo is None:
        stamp = stamp.astimezone()  # a local time, as people type it
    return stamp.timestamp()


def run(opts) -> int:
    now = time.time()
    try:
        since = parse_when(opts.since, now) if opts.since else None
        until = parse_when(opts.until, now) if opts.until else None
    except BadTime as exc:
        sys.stderr.write(f"wingman-sandbox monitor: {exc}\n")
        return 2
    if until is not None and since is None:
        sys.stderr.write("wingman-sandbox monitor: --until needs --since (the window to check)\n")
        return 2
    try:
        daemon = resolve_daemon(recorded_docker_env(os.environ))
    except UnsupportedDaemon as exc:
        sys.stderr.write(f"wingman-sandbox monitor: {exc}\n")
        return 2
    if not ping(daemon):
        sys.stderr.write(f"wingman-sandbox monitor: the daemon at {daemon.describe()} does not answer\n")
        return 2
    paths = opts.audit or [str(audit.resolve_audit_path(None, os.environ))]
    where = daemon.describe()

    def emit(event: dict) -> None:
        print(json.dumps(event, separators=(",", ":")) if opts.json else terminal_line(event), flush=True)

    watcher = Watcher(daemon, AuditTail(paths),
                      on_unapproved=lambda j: emit(unapproved_event(j, "host", where)),
                      on_gap=lambda start, end, why: emit(gap_event("host", where, start, end, why)))
    if not opts.json:
        window = f"from {_shown(since)} to {_shown(until)}" if until is not None else "until Ctrl-C"
        sys.stderr.write(f"wingman-sandbox monitor: watching {where} {window}, against {', '.join(paths)}\n")
    try:
        count = watcher.run(since=since, until=until)
    except KeyboardInterrupt:
        count = watcher.unapproved
    if not opts.json:
        sys.stderr.write(f"wingman-sandbox monitor: {count} unapproved event(s)\n")
    return 1 if count else 0


def _shown(seconds: float | None) -> str:
    if seconds is None:
        return "now"
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_parser(sub) -> None:
    monitor = sub.add_parser("monitor", help="watch the daemon's events against every session's audit log")
    monitor.add_argument("--since", help="start of the window: epoch seconds, ISO time, or 30s/10m/2h ago")
    monitor.add_argument("--until", help="end of a past window; the command then ends by itself")
    monitor.add_argument("--audit", action="append", help="an audit log to read (repeatable; default: the default path)")
    monitor.add_argument("--json", action="store_true", help="one JSON event per line")
    monitor.set_defaults(run=run)
