"""The broker's listeners: a loopback TCP port for the shells, a Unix socket for the rest.

Threads wait in accept() and each answers the connection it gets; whenever
the last waiting one takes a connection another starts, so a verdict held
for a human never stalls the others. Only a
client that sends the session's secret first is answered.

A stub's request that is answered `exit 0` keeps its connection while the
stub's program runs: the broker stops sending (the client sees the end of the
answer as before) and reads the program's exit status, STATUS\0, from it.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import select
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from ..acceptors import Acceptors
from ..session.layout import BROKER_PORT, BROKER_SECRET, BROKER_SOCKET
from .protocol import FIRST_ANSWER_SECONDS, FieldReader, ProtocolError, answer, unix_path

# How long a client may take to send its request once connected.
REQUEST_SECONDS = FIRST_ANSWER_SECONDS


class Channel:
    """One client connection, as the handlers see it: send pairs, notice when the client left.

    Pairs are sent together with the last one (`exit`), in one write; once a
    verdict is held for a human (`hold`), each goes out as it comes, so that the
    approval's progress is seen while it waits.
    """

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._streaming = False
        self.gone = False
        self.last_words: str | None = None  # a script's plan, as sent
        # Set by a handler that answers 0 and wants the program's exit status from the same
        # connection: called with it, or with None when the client hangs up without one.
        self.on_exit: Callable[[int | None], None] | None = None

    def send(self, kind: str, value: str = "") -> None:
        if self.gone:
            return
        with self._lock:
            if kind == "words":
                self.last_words = value
            self._pending += answer(kind, value)
            if kind == "hold":
                self._streaming = True
            if not (self._streaming or kind == "exit"):
                return
            try:
                self.sock.sendall(self._pending)
            except OSError:
                self.gone = True
            self._pending.clear()

    def client_left(self) -> bool:
        """True once the client closed its end (Ctrl-C in the shell that waits, a killed stub)."""
        if self.gone:
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if readable and not self.sock.recv(1, socket.MSG_PEEK):
                self.gone = True
        except OSError:
            self.gone = True
        return self.gone


class ErrStream:
    """A text stream whose writes reach the client's stderr as `err` pairs, as they are written."""

    def __init__(self, channel: Channel):
        self.channel = channel

    def write(self, text: str) -> int:
        if text:
            self.channel.send("err", text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


Handler = Callable[[str, list[str], Channel], int]


class BrokerServer:
    def __init__(self, session_dir: Path, handle: Handler):
        self.session_dir = Path(session_dir)
        self.handle = handle
        self.secret = secrets.token_hex(16)
        self.tcp = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.tcp.getsockname()[1]
        self.unix_path = self.session_dir / BROKER_SOCKET
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            with unix_path(self.unix_path) as short:
                self.unix.bind(short)
        finally:
            os.umask(old_umask)
        self.unix.listen(128)
        self._write_private(BROKER_SECRET, self.secret)
        self._write_private(BROKER_PORT, str(self.port))
        self._threads: list[threading.Thread] = []
        self._clients: set[threading.Thread] = set()
        self._clients_lock = threading.Lock()
        self._closed = threading.Event()

    def _write_private(self, name: str, text: str) -> None:
        fd = os.open(self.session_dir / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text + "\n")

    def start(self) -> None:
        # Warm threads wait in accept() and answer themselves: starting a thread per request
        # cost more than most answers take.
        for listener in (self.tcp, self.unix):
            acceptors = Acceptors(listener, self._serve_and_forget, self._closed.is_set)
            thread = threading.Thread(target=acceptors.run, daemon=True, name="wingman-broker-accept")
            thread.start()
            self._threads.append(thread)

    def close(self, drain_seconds: float = 2.0) -> None:
        """Stop listening; answer what already knocked (the last exit statuses) first, within a bound."""
        self._closed.set()
        for listener in (self.tcp, self.unix):
            listener.setblocking(False)
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    break
                conn.setblocking(True)
                self._spawn(conn)
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        try:
            self.unix_path.unlink()
        except OSError:
            pass
        deadline = time.monotonic() + drain_seconds
        with self._clients_lock:
            clients = list(self._clients)
        for thread in clients:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _spawn(self, conn: socket.socket) -> None:
        thread = threading.Thread(target=self._serve_and_forget, args=(conn,), daemon=True,
                                  name="wingman-broker-client")
        with self._clients_lock:
            thread.start()
            self._clients.add(thread)

    def _serve_and_forget(self, conn: socket.socket) -> None:
        with self._clients_lock:
            self._clients.add(threading.current_thread())  # close() waits for it, within its bound
        try:
            self._serve(conn)
        finally:
            with self._clients_lock:
                self._clients.discard(threading.current_thread())

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if conn.family == socket.AF_UNIX and not _same_user(conn):
                return
            conn.settimeout(REQUEST_SECONDS)
            reader = FieldReader(conn)
            try:
                secret, verb, args = reader.request()
            except (ProtocolError, OSError):
                return
            if not hmac.compare_digest(secret.encode(), self.secret.encode()):
                return  # not ours: not a word
            conn.settimeout(None)
            if conn.family == socket.AF_INET:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            channel = Channel(conn)
            try:
                status = self.handle(verb, args, channel)
            except Exception as exc:  # a bug of ours refuses, never lets the command through
                channel.send("err", f"wingman-run: refused: the session's broker failed ({type(exc).__name__}: "
                                    f"{exc}); nothing was run. Please report this with the command line.\n")
                status = 1
                sys.stderr.write(f"wingman-run: broker error on {verb}: {type(exc).__name__}: {exc}\n")
            channel.send("exit", str(status))
            if channel.on_exit is not None and status == 0:
                channel.on_exit(_exit_status(conn, reader) if not channel.gone else None)


_STATUS = re.compile(r"-?[0-9]{1,6}")


def _exit_status(conn: socket.socket, reader: FieldReader) -> int | None:
    """The status the client sends once its program has ended; None if it hangs up first."""
    try:
        conn.shutdown(socket.SHUT_WR)  # the answer is complete: a client reading to the end sees it so
        text = reader.field()
    except (ProtocolError, OSError):
        return None
    # ASCII digits only, and few: str.isdigit() also takes "²", which int() refuses, and a status
    # the broker cannot read must still end the call (its grants end with it).
    return int(text) if _STATUS.fullmatch(text) else None


def _same_user(conn: socket.socket) -> bool:
    """SO_PEERCRED: only the session's own user (or root) may ask on the Unix socket."""
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    except (OSError, AttributeError):
        return True  # no peer credentials on this platform: the secret still guards it
    uid = int.from_bytes(creds[4:8], sys.byteorder)
    return uid in (os.getuid(), 0)
