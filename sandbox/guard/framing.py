"""HTTP/1.1 message framing for the guard: where a head ends, how long a body is. Pure, no sockets.

It parses request heads by the RFC 9112 grammar and decides where the body of
a message ends in a byte stream, without copying the body. It is
deliberately stricter than the daemon's Go parser
(CRLF only, no folded lines, no chunk-size whitespace): whatever it accepts,
the daemon reads the same way, and whatever it doubts is never forwarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEAD = 64 * 1024
MAX_LINE = 4096
READ_METHODS = (b"GET", b"HEAD")


class FramingError(Exception):
    """A message the guard will not forward, because the daemon might read it otherwise."""


def has_bare_line_end(data: bytes | bytearray, end: int | None = None) -> bool:
    """A CR not followed by LF, or an LF not after a CR, in data[:end]."""
    end = len(data) if end is None else end
    # Counting in C beats a regex scan: every CR and every LF is in a CRLF pair exactly when the counts agree.
    pairs = data.count(b"\r\n", 0, end)
    return data.count(b"\r", 0, end) != pairs or data.count(b"\n", 0, end) != pairs


def head_end(buffer: bytes | bytearray) -> int:
    """Index just past the blank line that ends a head, or -1. Raises on oversized heads."""
    end = buffer.find(b"\r\n\r\n")
    # A bare CR or LF is refused at once: the daemon would end lines there, the guard does not.
    scanned = end + 4 if end >= 0 else len(buffer) - (1 if buffer.endswith(b"\r") else 0)
    if has_bare_line_end(buffer, scanned):
        raise FramingError("a bare CR or LF in the head")
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise FramingError("the request head is too large")
        return -1
    if end + 4 > MAX_HEAD:
        raise FramingError("the request head is too large")
    return end + 4


def _check_lines(head: bytes) -> None:
    if has_bare_line_end(head):
        raise FramingError("a bare CR or LF in the head")
    if b"\r\n " in head or b"\r\n\t" in head:
        raise FramingError("a folded header line")


@dataclass(frozen=True)
class RequestHead:
    method: str
    target: str
    headers: list[tuple[bytes, bytes]]  # names lower-cased
    body: str  # "none", "length" or "chunked"
    length: int = 0
    http10: bool = False

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def wants_upgrade(self) -> bool:
        return self.header(b"upgrade") is not None


# RFC 9112 request line and header fields, as strict as h11 reads them (measured: h11 costs 10x
# this per head, and every docker call pays it on the read path).
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") (/[\x21-\x7e]*) HTTP/1\.([01])\r\n")
_FIELD = re.compile(rb"(" + _TOKEN + rb"):[ \t]*((?:[\x21-\x7e\x80-\xff](?:[ \t]*[\x21-\x7e\x80-\xff])*)?)[ \t]*\r\n")


def parse_request_head(head: bytes) -> RequestHead:
    """The request line and framing of one head (ending in CRLF CRLF); anything doubtful raises."""
    _check_lines(head)
    line = _REQUEST_LINE.match(head)
    if not line:
        if head[:1] != b"/" and re.match(rb"[A-Za-z]+ [a-z]+://", head):
            raise FramingError("the request target must be a path (origin form)")
        raise FramingError("not a valid HTTP/1.1 request line")
    headers: list[tuple[bytes, bytes]] = []
    at, end = line.end(), len(head) - 2
    while at < end:
        field = _FIELD.match(head, at, end + 2)
        if not field:
            raise FramingError("a malformed header line")
        headers.append((field.group(1).lower(), field.group(2)))
        at = field.end()
    method, target, minor = line.group(1).decode(), line.group(2).decode("ascii"), line.group(3)
    names = [k for k, _ in headers]
    if minor == b"1" and names.count(b"host") != 1:
        raise FramingError("an HTTP/1.1 request needs exactly one Host header")
    lengths = [v for k, v in headers if k == b"content-length"]
    codings = [v for k, v in headers if k == b"transfer-encoding"]
    http10 = minor == b"0"
    if codings:
        if lengths or len(codings) != 1 or codings[0].lower() != b"chunked" or http10:
            raise FramingError("a Transfer-Encoding other than one plain chunked")
        return RequestHead(method, target, headers, "chunked")
    if len(lengths) > 1:
        raise FramingError("more than one Content-Length")
    if lengths:
        value = lengths[0]
        if not value.isdigit() or len(value) > 15:
            raise FramingError("a Content-Length that is not a number")
        length = int(value)
        return RequestHead(method, target, headers, "length" if length else "none", length, http10)
    return RequestHead(method, target, headers, "none", 0, http10)


@dataclass(frozen=True)
class ResponseHead:
    status: int
    body: str  # "none", "length", "chunked" or "close" (until the connection ends)
    length: int = 0
    content_type: bytes = b""
    closes: bool = False  # the daemon ends the connection after this response

    @property
    def interim(self) -> bool:
        return 100 <= self.status < 200 and self.status != 101

    @property
    def switches(self) -> bool:
        """After this response the connection carries raw bytes both ways (upgrade or docker's legacy hijack)."""
        return self.status == 101 or self.body == "close"


_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})(?: [^\r\n]*)?\r\n")
# Only the fields that frame the body or end the connection: one scan of the head in C, not a split per line.
_FRAMING_FIELDS = re.compile(rb"\n[ \t]*(content-length|transfer-encoding|content-type|connection)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r",
                             re.IGNORECASE)


def parse_response_head(head: bytes, request_method: str) -> ResponseHead:
    """The status and body framing of a response head from the daemon."""
    match = _STATUS.match(head)
    if not match:
        raise FramingError("the daemon sent something that is not an HTTP/1.1 response")
    status = int(match.group(1))
    length: int | None = None
    chunked = False
    content_type = b""
    closes = head.startswith(b"HTTP/1.0")
    for name, value in _FRAMING_FIELDS.findall(head, match.end() - 1):
        name = name.lower()
        if name == b"content-length":
            if not value.isdigit():
                raise FramingError("the daemon sent a Content-Length that is not a number")
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = value.lower().endswith(b"chunked")
        elif name == b"content-type":
            content_type = value
        else:
            closes = closes or b"close" in value.lower()
    if 100 <= status < 200 or status in (204, 304) or request_method == "HEAD":
        return ResponseHead(status, "none", 0, content_type, closes)
    if chunked:
        return ResponseHead(status, "chunked", 0, content_type, closes)
    if length is not None:
        return ResponseHead(status, "length" if length else "none", length, content_type, closes)
    return ResponseHead(status, "close", 0, content_type, True)


_CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]{1,15})(?:;[^\r\n]*)?\r\n")


class ChunkedScanner:
    """Follows a chunked body through the bytes that carry it; says where it ends.

    feed(data) returns how many bytes of data belong to the body; once `done`
    is true the rest belongs to the next message. Chunk data is skipped, not
    copied; with `keep`, the decoded data is collected too (small bodies only).
    """

    def __init__(self, keep: bool = False):
        self.state = "size"
        self.line = bytearray()
        self.remaining = 0
        self.done = False
        self.kept = bytearray() if keep else None

    def feed(self, data: bytes | bytearray, start: int = 0, end: int | None = None) -> int:
        """Scan data[start:end]; returns the index just past the last byte that belongs to the body."""
        i, n = start, len(data) if end is None else end
        while i < n and not self.done:
            if self.state == "data":
                take = min(self.remaining, n - i)
                if self.kept is not None:
                    self.kept += data[i:i + take]
                self.remaining -= take
                i += take
                if self.remaining == 0:
                    self.state = "data-crlf"
                continue
            if self.state == "size" and not self.line:
                # The common case, one regex call a chunk: a whole size line, and often the whole chunk.
                match = _CHUNK_SIZE.match(data, i, n)
                if match:
                    size = int(match.group(1), 16)
                    i = match.end()
                    if size == 0:
                        self.state = "trailer"
                    elif i + size + 2 <= n and self.kept is None:
                        if data[i + size:i + size + 2] != b"\r\n":
                            raise FramingError("chunk data longer than its size")
                        i += size + 2
                    else:
                        self.remaining, self.state = size, "data"
                    continue
            # Line states: size, data-crlf (must be an empty line), trailer.
            limit = min(n, i + MAX_LINE + 2 - len(self.line))
            nl = data.find(b"\n", i, limit)
            if nl < 0:
                self.line += data[i:limit]
                if len(self.line) > MAX_LINE:
                    raise FramingError("a chunk line is too long")
                i = limit
                continue
            self.line += data[i:nl + 1]
            i = nl + 1
            line = bytes(self.line)
            self.line.clear()
            if not line.endswith(b"\r\n") or b"\r" in line[:-2]:
                raise FramingError("a chunk line not ended by CRLF")
            self._line(line[:-2])
        return i

    def _line(self, line: bytes) -> None:
        if self.state == "data-crlf":
            if line:
                raise FramingError("chunk data longer than its size")
            self.state = "size"
        elif self.state == "size":
            size, _, _ext = line.partition(b";")
            if not size or len(size) > 15 or not all(c in b"0123456789abcdefABCDEF" for c in size):
                raise FramingError("a chunk size that is not a hex number")
            self.remaining = int(size, 16)
            self.state = "data" if self.remaining else "trailer"
        elif self.state == "trailer":
            if not line:
                self.done = True
            elif b":" not in line or line[:1] in (b" ", b"\t"):
                raise FramingError("a malformed chunked trailer")
