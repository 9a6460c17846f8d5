"""Script files the hooks hand over by path: read once, planned once while unchanged."""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass

# Larger scripts are planned as unreadable: every command is checked as it runs.
MAX_SCRIPT_BYTES = 16 << 20
PLANS_KEPT = 256


def file_key(info: os.stat_result) -> tuple:
    """The same file, unchanged: device, inode, size and the time of its last change."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass(frozen=True)
class ScriptFile:
    key: tuple
    text: str

    @staticmethod
    def key_of(path: str) -> tuple | None:
        """The file's key without reading it: a plan kept for it needs no read."""
        try:
            return file_key(os.stat(path))
        except OSError:
            return None

    @classmethod
    def read(cls, path: str) -> "ScriptFile | None":
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if info.st_size > MAX_SCRIPT_BYTES:
                    return None
                data = handle.read(MAX_SCRIPT_BYTES + 1)
        except OSError:
            return None
        key = file_key(info)
        # bash drops NUL bytes from a script as it reads it (`doc\0ker` runs docker): so does the plan.
        return cls(key, data.replace(b"\0", b"").decode("utf-8", "surrogateescape"))


class PlanCache:
    """The words to arm for each script seen, newest kept."""

    def __init__(self, size: int = PLANS_KEPT):
        self.size = size
        self._plans: OrderedDict[tuple, str] = OrderedDict()

    def get(self, key: tuple) -> str | None:
        words = self._plans.get(key)
        if words is not None:
            self._plans.move_to_end(key)
        return words

    def put(self, key: tuple, words: str) -> None:
        self._plans[key] = words
        self._plans.move_to_end(key)
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)
