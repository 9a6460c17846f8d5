"""New lines of audit logs, read where the last read stopped (the logs only grow; a replaced file starts over)."""

from __future__ import annotations

import json
import os
from pathlib import Path


class AuditTail:
    def __init__(self, paths, backlog_bytes: int | None = None):
        """backlog_bytes: start that far before the current end (a session needs only recent decisions)."""
        self.paths = [Path(p) for p in dict.fromkeys(str(p) for p in paths)]
        self.offsets: dict[str, tuple[int, int]] = {}  # path -> (inode, offset)
        if backlog_bytes is not None:
            for path in self.paths:
                self._start_near_end(path, backlog_bytes)

    def _start_near_end(self, path: Path, backlog: int) -> None:
        try:
            with path.open("rb") as handle:
                info = os.fstat(handle.fileno())
                start = max(0, info.st_size - backlog)
                if start:
                    handle.seek(start)
                    start += len(handle.readline())  # from the first whole line on
        except OSError:
            return
        self.offsets[str(path)] = (info.st_ino, start)

    def read_new(self) -> list[dict]:
        out = []
        for path in self.paths:
            out.extend(self._read(path))
        return out

    def _read(self, path: Path) -> list[dict]:
        try:
            handle = path.open("rb")
        except OSError:
            return []
        with handle:
            inode = os.fstat(handle.fileno()).st_ino
            known_inode, offset = self.offsets.get(str(path), (inode, 0))
            if known_inode != inode or os.fstat(handle.fileno()).st_size < offset:
                offset = 0
            handle.seek(offset)
            data = handle.read()
        complete = data.rfind(b"\n") + 1  # a line still being written waits for the next read
        self.offsets[str(path)] = (inode, offset + complete)
        events = []
        for raw in data[:complete].splitlines():
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
        return events
