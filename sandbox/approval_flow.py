"""Ask: file an approval request and wait for a human. Never runs on doubt."""

from __future__ import annotations

from typing import TextIO

from .policy import Decision


def ask(session, decision: Decision, *, layer: str, argv, cwd: str, shown: str, stream: TextIO):
    return False, {"status": "NO_SERVICE"}, "ask, and no approval service is configured for this session"
