"""The guard's questions to the session's broker, which decides, asks a human, audits and answers.

Every call that is not a read goes to the broker (verb `api`). No broker,
no answer, a garbled answer: the call is refused, never forwarded.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..broker import protocol
from ..session.layout import BROKER_SECRET, BROKER_SOCKET
from .launch import TOKEN_ENV
from .proxy import Request

MAX_SHOWN_LINES = 8
_LABEL = re.compile(r"^[a-z][a-z ]{0,15}:\s")


def one_line(text: str) -> str:
    """The broker's refusal block as one line, the way the docker CLI prints a daemon's error."""
    parts: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        if parts and (parts[-1].endswith(":") or (not _LABEL.match(line) and raw[:1].isspace())):
            parts[-1] += " " + line  # a continuation of the line above
        else:
            parts.append(line)
    return "; ".join(parts[:MAX_SHOWN_LINES])


class BrokerDecider:
    """decide(request) for the proxy: None to forward, else the text of the refusal."""

    def __init__(self, session_dir: str | Path):
        self.token = os.environ.get(TOKEN_ENV, "")
        # The session directory is held open from the start and the secret read once: a session
        # can move its directory's parents aside and plant a look-alike broker at the same path,
        # which must never be the one asked.
        self.socket, self.secret, self.unreadable = str(Path(session_dir) / BROKER_SOCKET), None, ""
        try:
            directory = os.open(session_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            self.unreadable = f"the session directory cannot be opened ({exc.strerror})"
            return
        if os.path.isdir(f"/proc/self/fd/{directory}"):
            self.socket = f"/proc/self/fd/{directory}/{BROKER_SOCKET}"
        try:
            handle = os.open(BROKER_SECRET, os.O_RDONLY | os.O_CLOEXEC, dir_fd=directory)
            with os.fdopen(handle) as secret:
                self.secret = secret.read().strip()
        except OSError as exc:
            self.unreadable = f"its secret cannot be read ({exc.strerror})"

    def __call__(self, request: Request) -> str | None:
        head, call = request.head, request.call
        path = head.target.partition("?")[0]
        secret = self.secret
        if secret is None:
            return self._gone(call.rules[0], self.unreadable)
        pids = " ".join(str(p) for p in request.pids)
        for rule in call.rules:
            try:
                reply = protocol.ask(self.socket, secret, "api", self.token, pids, head.method, path, rule,
                                     "\n".join(call.targets), call.shown)
            except (OSError, protocol.ProtocolError) as exc:
                return self._gone(rule, str(exc) or type(exc).__name__)
            if reply.status != 0:
                text = "".join(reply.values("err"))
                return one_line(text) or f"wingman-run: refused: {call.shown} (rule {rule})"
        return None

    @staticmethod
    def _gone(rule: str, why: str) -> str:
        return (f"wingman-run: refused ({rule}): the session's broker does not answer ({why}); "
                "the guard lets no change through without it. Restart the session.")
