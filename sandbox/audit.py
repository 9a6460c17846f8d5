"""The audit log: JSON Lines, one event per decision, appended atomically.

A decision event is written before the command runs (exit null); an exit
event with the same id follows once the status is known. Each line goes out
in one write(2) on an O_APPEND descriptor, so concurrent writers (this
module, and the shell stub's printf) never interleave within a line.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import platformdirs

APP = "wingman-run"


def default_audit_path() -> Path:
    return Path(platformdirs.user_state_dir(APP)) / "audit.jsonl"


def resolve_audit_path(profile_path: str | None, environ) -> Path:
    chosen = environ.get("WINGMAN_AUDIT_LOG") or profile_path
    return Path(chosen).expanduser() if chosen else default_audit_path()


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_event_id(session: str) -> str:
    return f"{session}.{os.getpid()}.{uuid.uuid4().hex[:12]}"


def append(path: Path, event: dict) -> None:
    """Append one event as one line; raises OSError if it cannot be written."""
    line = (json.dumps(event, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
    with _OPEN_LOCK:
        writer = _WRITERS.get(str(path))
        if writer is None:
            writer = _WRITERS[str(path)] = _Writer(Path(path))
    writer.write(line)


class _Writer:
    """One O_APPEND descriptor per log, kept open (the broker writes every line of its session).

    Reopened when the file it points at is no longer the one at the path (moved or
    deleted): a line written to an unlinked file would be a line lost.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        self.fd: int | None = None

    def _current_fd(self) -> int:
        if self.fd is not None:
            try:
                if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                    return self.fd
            except FileNotFoundError:
                pass
            os.close(self.fd)
            self.fd = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self.fd

    def write(self, line: bytes) -> None:
        with self.lock:
            fd = self._current_fd()
            fcntl.flock(fd, fcntl.LOCK_EX)  # serialises long lines between processes
            try:
                view = memoryview(line)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


_WRITERS: dict[str, _Writer] = {}
_OPEN_LOCK = threading.Lock()


def decision_event(*, session: str, layer: str, argv, cwd: str, verdict: str, rule: str,
                   reason: str | None = None, event_id: str | None = None, **extra) -> dict:
    event = {
        "time": now_iso(), "event": "decision", "id": event_id or new_event_id(session),
        "session": session, "layer": layer, "argv": list(argv), "cwd": cwd,
        "verdict": verdict, "rule": rule, "exit": None,
    }
    if reason:
        event["reason"] = reason
    event.update({k: v for k, v in extra.items() if v is not None})
    return event


def exit_event(*, session: str, layer: str, event_id: str, status: int | None) -> dict:
    """The end of a decision's command; status None when the end was seen but not its status."""
    return {"time": now_iso(), "event": "exit", "id": event_id, "session": session, "layer": layer, "exit": status}


def read_events(path: Path) -> Iterator[dict]:
    """Every event in the log; a line that is not JSON is reported as such, never dropped silently."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        for number, raw in enumerate(handle, 1):
            yield _decode(raw, number)


def _decode(raw: bytes, number: int) -> dict:
    try:
        event = json.loads(raw)
        if isinstance(event, dict):
            return event
    except ValueError:
        pass
    return {"event": "unreadable", "line": number, "raw": raw.decode("utf-8", "replace").rstrip("\n")}


def merge_exits(events: list[dict]) -> list[dict]:
    """Decision events with their exit status filled in from the matching exit events.

    A decision whose command has ended gets `"ended": true`, with or without a status
    (one allowed outright reports its status to the caller alone).
    """
    exits = {e["id"]: e.get("exit") for e in events if e.get("event") == "exit" and "id" in e}
    out = []
    for event in events:
        if event.get("event") == "exit":
            continue
        if event.get("event") == "decision" and event.get("exit") is None and event.get("id") in exits:
            event = {**event, "exit": exits[event["id"]], "ended": True}
        out.append(event)
    return out


def follow(path: Path, poll: float = 0.25) -> Iterator[dict]:
    """Events appended after now, as they come."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=True)
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        buffer = b""
        while True:
            chunk = handle.readline()
            if not chunk:
                time.sleep(poll)
                continue
            buffer += chunk
            if buffer.endswith(b"\n"):
                yield _decode(buffer, 0)
                buffer = b""
