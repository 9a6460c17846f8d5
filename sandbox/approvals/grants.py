"""Approvals handed from one layer to the next, so one command makes one request.

The shell hook asks first and lets the command run; the docker stub then sees the
same argv and must not ask again. A grant covers exactly one argv in one working
directory, in one session: taken once, unless the profile grants a reuse window,
in which case it covers that argv until the window closes.

A once-only grant that nobody takes expires after ONCE_TTL_SECONDS, so a command
that never reached the next layer cannot leave a stale approval behind for a
later, identical command.

Storage: one JSON file in the session dir, read and rewritten under an exclusive
fcntl lock, so concurrent takers get a once-only grant at most once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import posixpath
import time
from pathlib import Path
from typing import Iterator, Sequence

from ..session.layout import APPROVAL_GRANTS as GRANTS_FILE, APPROVAL_GRANTS_LOCK as LOCK_FILE
ONCE_TTL_SECONDS = 120.0


def grant_key(argv: Sequence[str], cwd: str) -> str:
    exact = json.dumps([list(argv), posixpath.normpath(cwd)], ensure_ascii=False)
    return hashlib.sha256(exact.encode("utf-8")).hexdigest()


def grant(session_dir: Path, argv: Sequence[str], cwd: str, reuse_seconds: float, request_id: str,
          now: float | None = None, ttl_seconds: float = ONCE_TTL_SECONDS) -> None:
    now = time.time() if now is None else now
    reusable = reuse_seconds > 0
    entry = {
        "request_id": request_id,
        "granted_at": now,
        "expires_at": now + (reuse_seconds if reusable else ttl_seconds),
        "reusable": reusable,
    }
    with _locked(Path(session_dir)) as grants:
        grants[grant_key(argv, cwd)] = entry


def take(session_dir: Path, argv: Sequence[str], cwd: str, now: float | None = None) -> str | None:
    """The request id that approved exactly this argv here, consuming a once-only grant; else None."""
    now = time.time() if now is None else now
    session_dir = Path(session_dir)
    if not (session_dir / GRANTS_FILE).exists():
        return None  # fast path: nothing was ever granted in this session
    with _locked(session_dir) as grants:
        key = grant_key(argv, cwd)
        entry = grants.get(key)
        if not isinstance(entry, dict):
            return None
        if not now < float(entry.get("expires_at", 0)):
            del grants[key]
            return None
        if not entry.get("reusable"):
            del grants[key]
        request_id = entry.get("request_id")
        return request_id if isinstance(request_id, str) else None


@contextlib.contextmanager
def _locked(session_dir: Path) -> Iterator[dict]:
    """Yield the grants; whatever the body leaves in the dict is written back, expired entries dropped."""
    session_dir.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(session_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        path = session_dir / GRANTS_FILE
        grants = _read(path)
        yield grants
        now = time.time()
        live = {k: v for k, v in grants.items() if isinstance(v, dict) and float(v.get("expires_at", 0)) > now}
        _write(path, live)
    finally:
        os.close(lock_fd)  # closing releases the lock


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: no grants, so everything asks again (fail closed)
    return data if isinstance(data, dict) else {}


def _write(path: Path, grants: dict) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(grants, out)
    os.replace(tmp, path)
