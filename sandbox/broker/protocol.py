"""The broker's wire format: simple enough for bash's /dev/tcp and zsh's ztcp.

Every client opens one connection per request, on the broker's loopback TCP
port (bash, zsh, the assistant hook program) or its Unix socket (the guard,
Python tools), and writes NUL-terminated fields:

    SECRET \\0 VERB \\0 N \\0 ARG1 \\0 ... ARGN \\0

The broker answers with NUL-terminated (KIND, VALUE) pairs, then closes (but see below):

    err   text to write to the client's stderr as it is (refusals, approval progress)
    out   text to write to the client's stdout as it is (an assistant's JSON answer)
    name  the word the shell looks a refused command up by (hook verb)
    words the programs to check command by command (hook verb, script scope)
    hold  the verdict waits for a human: keep reading, with the long timeout
    exec  (stub verb) allowed outright: the program may take the stub's place
    exit  the status, last: 0 run it, 1 refused, 2 a bad request

After `exit 0` to a `stub` request the broker closes only its sending side and
the connection stays open while the program runs. After `exec`, the program
holds it, and it closes when the program ends: the end is recorded, without a
status. Otherwise the stub runs its program as a child and then writes the exit
status on the connection (STATUS \\0), which is recorded as its exit. Answers
to the stub stay short: bash reads a socket one byte at a time, four system
calls a byte while a timeout is set.

A broker that does not send its first pair within 2 s is treated as gone,
unless that pair is `hold`. A connection without the right secret is closed
without a word. Fields never hold NUL (bash strings cannot).
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass, field
from typing import Iterator

FIRST_ANSWER_SECONDS = 2.0
MAX_FIELD = 1 << 20  # a hook's script text is read once per shell; larger is refused
MAX_FIELDS = 4096
KINDS = ("err", "out", "name", "words", "hold", "exec", "exit")


class ProtocolError(Exception):
    pass


# sun_path holds 108 bytes; session directories can be deeper than that.
_SUN_PATH_MAX = 100


@contextlib.contextmanager
def unix_path(path: str | os.PathLike) -> Iterator[str]:
    """A path to bind or connect a Unix socket by, short enough for sun_path whatever the directory's depth.

    A long one goes through /proc/self/fd/N of its directory (Linux), which
    names the same socket file.
    """
    path = os.fspath(path)
    if len(path.encode()) <= _SUN_PATH_MAX or not os.path.isdir("/proc/self/fd"):
        yield path
        return
    directory, name = os.path.split(path)
    fd = os.open(directory or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{name}"
    finally:
        os.close(fd)


def encode(*fields: str) -> bytes:
    out = bytearray()
    for value in fields:
        data = value.encode("utf-8", "surrogateescape")
        if b"\0" in data:
            raise ProtocolError("a field holds a NUL byte")
        out += data + b"\0"
    return bytes(out)


def request(secret: str, verb: str, *args: str) -> bytes:
    return encode(secret, verb, str(len(args)), *args)


def answer(kind: str, value: str = "") -> bytes:
    return encode(kind, value)


class FieldReader:
    """Reads NUL-terminated fields from a blocking socket, with a bound on each field's size."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()

    def field(self) -> str:
        while True:
            end = self.buffer.find(b"\0")
            if end >= 0:
                value = bytes(self.buffer[:end])
                del self.buffer[: end + 1]
                return value.decode("utf-8", "surrogateescape")
            if len(self.buffer) > MAX_FIELD:
                raise ProtocolError("a field is too long")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProtocolError("the connection closed mid-field")
            self.buffer += chunk

    def request(self) -> tuple[str, str, list[str]]:
        """(secret, verb, args) of one request."""
        secret = self.field()
        verb = self.field()
        try:
            count = int(self.field())
        except ValueError:
            raise ProtocolError("the argument count is not a number") from None
        if not 0 <= count <= MAX_FIELDS:
            raise ProtocolError("too many arguments")
        return secret, verb, [self.field() for _ in range(count)]


@dataclass
class Reply:
    status: int = 2
    pairs: list[tuple[str, str]] = field(default_factory=list)

    def values(self, kind: str) -> list[str]:
        return [value for k, value in self.pairs if k == kind]

    def first(self, kind: str, default: str = "") -> str:
        found = self.values(kind)
        return found[0] if found else default


def ask(address: str | tuple[str, int], secret: str, verb: str, *args: str,
        long_timeout: float = 3600.0) -> Reply:
    """One request from Python (the guard, tools, tests). Raises OSError when the broker is gone."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(FIRST_ANSWER_SECONDS)
        if isinstance(address, str):
            with unix_path(address) as short:
                sock.connect(short)
        else:
            sock.connect(address)
        sock.sendall(request(secret, verb, *args))
        reader = FieldReader(sock)
        reply = Reply()
        while True:
            try:
                kind = reader.field()
                value = reader.field()
            except ProtocolError as exc:
                raise ConnectionError(f"the broker broke off its answer: {exc}") from None
            if kind == "hold":
                sock.settimeout(long_timeout)
            if kind == "exit":
                reply.status = int(value) if value.isdigit() else 2
                return reply
            reply.pairs.append((kind, value))
