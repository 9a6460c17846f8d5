"""The guard's proxy: every request head on the session's Docker socket is read and judged; bytes are forwarded.

One thread per direction of each connection. Requests and responses go in
lockstep (the docker CLI and the SDKs never pipeline): the guard reads a
request head only after the previous response has ended, so it always knows
whether the daemon still reads HTTP on that connection. After an upgrade (101)
or docker's legacy hijack (a response that runs until the connection closes)
the connection carries raw bytes both ways, each direction closed on its own.
Bodies are forwarded as they come, never parsed, except the small JSON of the
few calls whose rule depends on it (containers/create and the like).
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
from dataclasses import dataclass
from typing import Callable

from . import mapping
from ..acceptors import Acceptors
from .upstream import Dialer
from .framing import ChunkedScanner, FramingError, RequestHead, head_end, parse_request_head, parse_response_head

BUFFER = 16 * 1024  # each direction starts small: fifty idle streams must stay cheap
BULK_BUFFER = 256 * 1024  # and grows when a read fills it (cp, logs, build contexts)
# With a bulk transfer the kernel holds this much on its way to the reader (a limit, not an allocation):
# the guard is one more process that needs the CPU, and on a busy machine a few milliseconds without it
# would otherwise stall the writer behind it.
BULK_SEND_BUFFER = 2 << 20
DRAIN_LIMIT = 1 << 20
DRAIN_SECONDS = 2.0
ANSWER_AFTER_CLOSE_SECONDS = 10.0  # the daemon has closed: its answer, if any, is already on the way


@dataclass(frozen=True)
class Request:
    head: RequestHead
    call: mapping.Call
    pids: list[int]


# decide(request) -> None to forward it, or the refusal text for the client.
Decider = Callable[[Request], "str | None"]


class Closed(Exception):
    """The other side closed in the middle of a message."""


class DaemonStoppedReading(Exception):
    """The daemon closed while a request body was still going up: it may have answered first."""


class _Upstream:
    """The daemon's socket as a body's destination: a failed write says whose side broke."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def sendall(self, data) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise DaemonStoppedReading() from exc

    def setsockopt(self, *args) -> None:
        self.sock.setsockopt(*args)


def _widen(dst) -> None:
    """Room for a bulk transfer in dst's send buffer; without it the transfer goes on, only slower."""
    try:
        dst.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BULK_SEND_BUFFER)
    except OSError:
        pass


class Stream:
    """A socket with the bytes read past the last message boundary."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.scratch = bytearray()  # made at the first body read: most messages come whole with their head

    def _recv(self, dst, limit: int = 0) -> tuple[bytearray, int]:
        """Read up to limit (0: as much as fits) into the scratch buffer: (that buffer, bytes read).

        dst is where the bytes go next (None when they are kept): it gets a bulk transfer's send buffer.
        """
        scratch = self.scratch
        if not scratch:
            scratch = self.scratch = bytearray(BUFFER)
        got = self.sock.recv_into(scratch, min(limit, len(scratch)) if limit else len(scratch))
        if got == len(scratch) and got < BULK_BUFFER:
            self.scratch = bytearray(BULK_BUFFER)  # a bulk transfer: fewer, larger reads and writes
            if dst is not None:
                _widen(dst)
        return scratch, got

    def read_head(self) -> bytes | None:
        """The next message head, or None when the peer closed between messages."""
        buf = self.buf
        if not buf:
            # The common case: the whole head (and often the whole message) in one read.
            data = self.sock.recv(BUFFER)
            if not data:
                return None
            end = head_end(data)
            if end >= 0:
                buf += memoryview(data)[end:]
                return data[:end] if end < len(data) else data
            buf += data
        while True:
            end = head_end(buf)
            if end >= 0:
                head = bytes(buf[:end])
                del buf[:end]
                return head
            data = self.sock.recv(BUFFER)
            if not data:
                if buf:
                    raise Closed("closed in the middle of a head")
                return None
            buf += data

    def read_exact(self, count: int) -> bytes:
        while len(self.buf) < count:
            data = self.sock.recv(BUFFER)
            if not data:
                raise Closed("closed in the middle of a body")
            self.buf += data
        out = bytes(self.buf[:count])
        del self.buf[:count]
        return out

    def forward_length(self, dst: socket.socket, count: int) -> None:
        if self.buf:
            take = min(count, len(self.buf))
            dst.sendall(self.buf[:take])
            del self.buf[:take]
            count -= take
        while count:
            scratch, got = self._recv(dst, count)
            if not got:
                raise Closed("closed in the middle of a body")
            dst.sendall(memoryview(scratch)[:got])
            count -= got

    def forward_chunked(self, dst: socket.socket, scanner: ChunkedScanner, limit: int | None = None) -> bytes:
        """Forward (or, with limit, collect up to about limit bytes of) a chunked body. Returns what was collected."""
        collected = bytearray()
        if self.buf:
            used = scanner.feed(self.buf)
            if limit is None:
                dst.sendall(self.buf[:used])
            else:
                collected += self.buf[:used]
            del self.buf[:used]
        while not scanner.done and (limit is None or len(collected) <= limit):
            scratch, got = self._recv(dst if limit is None else None)
            if not got:
                raise Closed("closed in the middle of a chunked body")
            used = scanner.feed(scratch, 0, got)
            view = memoryview(scratch)
            if limit is None:
                dst.sendall(view[:used])
            else:
                collected += view[:used]
            if used < got:
                self.buf += view[used:got]
        return bytes(collected)

    def forward_to_eof(self, dst: socket.socket) -> None:
        if self.buf:
            dst.sendall(self.buf)
            self.buf.clear()
        while True:
            scratch, got = self._recv(dst)
            if not got:
                return
            dst.sendall(memoryview(scratch)[:got])


def _shut(sock: socket.socket | None, how: int) -> None:
    if sock is not None:
        try:
            sock.shutdown(how)
        except OSError:
            pass


def error_response(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"message": message}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


class Connection:
    """One client connection and, once a request is let through, its connection to the daemon."""

    def __init__(self, client: socket.socket, dialer: Dialer, decide: Decider,
                 chain: Callable[[socket.socket], list[int]], engine_sockets: tuple[str, ...]):
        self.client = client
        self.dialer = dialer
        self.decide = decide
        self.chain = chain
        self.engine_sockets = engine_sockets
        self.upstream: socket.socket | None = None
        self.inbound = Stream(client)
        # Made with the responder thread: a queue costs more to make than a ping costs to forward.
        self.pending: queue.SimpleQueue | None = None  # request heads the daemon has yet to answer
        self.outcome: queue.SimpleQueue | None = None  # "complete", "switched" or "closed", one per request
        self.outbound: Stream | None = None
        self.responder: threading.Thread | None = None
        self.pids: list[int] | None = None

    def run(self) -> None:
        try:
            self._requests()
        except Exception:  # noqa: BLE001 - whatever went wrong, the connection ends and nothing more is forwarded
            pass
        finally:
            if self.responder is not None:
                # Wakes the other thread wherever it waits on either socket (a close alone would not).
                _shut(self.client, socket.SHUT_RDWR)
                _shut(self.upstream, socket.SHUT_RDWR)
                if self.pending is not None:
                    self.pending.put(None)
                self.responder.join()
            self.client.close()
            if self.upstream is not None:
                self.upstream.close()

    # -- client -> daemon

    def _requests(self) -> None:
        while True:
            try:
                head = self.inbound.read_head()
                if head is None:
                    return
                request = parse_request_head(head)
            except FramingError as exc:
                self._refuse(400, "Bad Request", f"wingman-run guard: {exc}; the request was not forwarded")
                return
            body, decoded, scanner = self._body_to_check(request)
            call = mapping.classify(request.method, request.target, decoded,
                                    resolve=os.path.realpath, engine_sockets=self.engine_sockets)
            if not call.is_read:
                if self.pids is None:
                    self.pids = self.chain(self.client)
                refusal = self.decide(Request(request, call, self.pids))
                if refusal is not None:
                    self._refuse(403, "Forbidden", refusal)
                    return
            if not self._connect():
                return
            if request.body == "none" and self.responder is None:
                # No body to send alongside: this thread reads the answer itself (the hot path, one thread).
                self.upstream.sendall(head)
                outcome = self._respond(request)
                if outcome == "switched":
                    self.responder = threading.Thread(target=self._pump_out, daemon=True)
                    self.responder.start()
            else:
                # A body goes up while the answer may already come down (100-continue, early errors).
                self._start_responder()
                self.pending.put(request)
                try:
                    _Upstream(self.upstream).sendall(head + body)
                    self._forward_body(request, len(body), scanner)
                except DaemonStoppedReading:
                    # Go's server answers some requests (a ping with a body, an early error) and closes
                    # without reading the rest: that answer still goes to the client, then the connection ends.
                    self.outcome.get(timeout=ANSWER_AFTER_CLOSE_SECONDS)
                    return
                outcome = self.outcome.get()
            if outcome == "switched":
                self.inbound.forward_to_eof(self.upstream)
                _shut(self.upstream, socket.SHUT_WR)
                self.responder.join()
                self.responder = None
                return
            if outcome == "closed":
                return

    def _body_to_check(self, request: RequestHead) -> tuple[bytes, bytes | None, ChunkedScanner | None]:
        """(raw bytes read ahead, the decoded body when the rule depends on it and it is small, the chunk scanner)."""
        if not mapping.needs_body(request.method, request.target.partition("?")[0]):
            return b"", None, ChunkedScanner() if request.body == "chunked" else None
        if request.body == "none":
            return b"", b"", None
        if request.body == "length":
            if request.length > mapping.MAX_CHECKED_BODY:
                return b"", None, None
            raw = self.inbound.read_exact(request.length)
            return raw, raw, None
        scanner = ChunkedScanner(keep=True)
        raw = self.inbound.forward_chunked(self.client, scanner, limit=mapping.MAX_CHECKED_BODY)
        decoded = bytes(scanner.kept) if scanner.done else None
        scanner.kept = None
        return raw, decoded, scanner

    def _forward_body(self, request: RequestHead, already: int, scanner: ChunkedScanner | None) -> None:
        if request.body == "length":
            self.inbound.forward_length(_Upstream(self.upstream), request.length - already)
        elif request.body == "chunked" and not scanner.done:
            self.inbound.forward_chunked(_Upstream(self.upstream), scanner)

    def _connect(self) -> bool:
        if self.upstream is not None:
            return True
        try:
            self.upstream = self.dialer.connect()
        except OSError as exc:
            self._refuse(502, "Bad Gateway", f"wingman-run guard: cannot reach the Docker daemon at {self.dialer.path}: {exc.strerror or exc}")
            return False
        self.outbound = Stream(self.upstream)
        return True

    def _start_responder(self) -> None:
        if self.responder is None:
            self.pending, self.outcome = queue.SimpleQueue(), queue.SimpleQueue()
            self.responder = threading.Thread(target=self._responses, daemon=True)
            self.responder.start()

    def _refuse(self, status: int, reason: str, message: str) -> None:
        """Answer without forwarding, then close: the rest of the request is read and dropped, so the client sees the answer."""
        try:
            self.client.sendall(error_response(status, reason, message))
            _shut(self.client, socket.SHUT_WR)
            self.client.settimeout(DRAIN_SECONDS)
            drained = 0
            while drained < DRAIN_LIMIT:
                data = self.client.recv(BUFFER)
                if not data:
                    break
                drained += len(data)
        except OSError:
            pass

    # -- daemon -> client

    def _respond(self, request: RequestHead) -> str:
        """Forward the answer to one request: "complete", "switched" (raw bytes from here) or "closed"."""
        outbound = self.outbound
        while True:
            head = outbound.read_head()
            if head is None:
                _shut(self.client, socket.SHUT_WR)
                return "closed"
            response = parse_response_head(head, request.method)
            if not response.interim:
                break
            self.client.sendall(head)
        if response.switches:
            self.client.sendall(head)
            return "switched"
        if response.body == "length":
            # The head and what came with it of the body in one write: most answers are small.
            take = min(response.length, len(outbound.buf))
            self.client.sendall(head + outbound.buf[:take])
            del outbound.buf[:take]
            outbound.forward_length(self.client, response.length - take)
        else:
            self.client.sendall(head)
            if response.body == "chunked":
                outbound.forward_chunked(self.client, ChunkedScanner())
        if response.closes:
            _shut(self.client, socket.SHUT_WR)
            return "closed"
        return "complete"

    def _pump_out(self) -> None:
        """After a switch: the daemon's raw bytes to the client until it closes its side."""
        try:
            self.outbound.forward_to_eof(self.client)
        except Exception:  # noqa: BLE001 - a broken stream ends the connection, both ways
            _shut(self.upstream, socket.SHUT_RDWR)
        _shut(self.client, socket.SHUT_WR)

    def _responses(self) -> None:
        try:
            while True:
                request = self.pending.get()
                if request is None:
                    return
                outcome = self._respond(request)
                self.outcome.put(outcome)
                if outcome == "switched":
                    self._pump_out()
                    return
                if outcome == "closed":
                    return
        except Exception:  # noqa: BLE001 - a broken response ends the connection, both ways
            self.outcome.put("closed")
            _shut(self.client, socket.SHUT_RDWR)
            _shut(self.upstream, socket.SHUT_RDWR)


def serve(listener: socket.socket, upstream_path: str, decide: Decider,
          chain: Callable[[socket.socket], list[int]], engine_sockets: tuple[str, ...] = ()) -> None:
    """Accept connections forever, each served on a thread of its own."""
    dialer = Dialer(upstream_path)

    def handle(client: socket.socket) -> None:
        Connection(client, dialer, decide, chain, engine_sockets).run()
        dialer.refill()  # once the caller has its answer

    Acceptors(listener, handle).run()
