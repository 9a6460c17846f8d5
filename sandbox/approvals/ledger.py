"""This session's approval requests, for `wingman-sandbox approvals`: one JSON line each.

Appends go under an fcntl lock so lines from concurrent layers never interleave.
Entries hold what the user needs to find the request again (id, command, status,
decider, note, wait); they never hold a key, because nothing passed in holds one.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from .instruction import ApprovalSubject, task_name

from ..session.layout import APPROVAL_LEDGER as LEDGER_FILE


def record(session_dir: Path, subject: ApprovalSubject, outcome) -> None:
    entry = {
        "time": round(time.time(), 3),
        "request_id": outcome.request_id,
        "status": outcome.status,
        "approved": outcome.approved,
        "decided_by": outcome.decided_by,
        "note": outcome.note,
        "risk": outcome.risk,
        "waited_seconds": outcome.waited_seconds,
        "error": outcome.error,
        "deduped": getattr(outcome, "deduped", False),
        "task_name": task_name(subject),
        "argv": list(subject.argv),
        "cwd": subject.cwd,
        "rule": subject.rule,
        "layer": subject.layer,
    }
    session_dir = Path(session_dir)
    session_dir.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=True) + "\n"  # argv may hold bytes that are not UTF-8 (surrogates)
    fd = os.open(session_dir / LEDGER_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def entries(session_dir: Path) -> list[dict]:
    """Oldest first; a damaged line is skipped, not fatal."""
    try:
        text = (Path(session_dir) / LEDGER_FILE).read_text(encoding="utf-8")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            found.append(entry)
    return found
