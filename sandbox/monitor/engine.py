"""The Engine API, straight to the daemon the session recorded (never through the guard): events and inspect.

The daemon is found as the guard finds its upstream (sandbox.guard.endpoints);
a plain tcp:// daemon is watched too, since watching needs no socket to hide.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Callable, Iterator

from ..broker.protocol import unix_path
from ..guard.endpoints import UnsupportedDaemon, context_host, daemon_socket, docker_config_dir

READ_SLICE = 0.5  # how often a quiet stream looks at its stop flag
CONNECT_SECONDS = 3.0


class EngineGone(Exception):
    """The daemon cannot be reached, or the stream broke off; the text says which."""


@dataclass(frozen=True)
class Daemon:
    unix: str | None = None
    tcp: tuple[str, int] | None = None

    def describe(self) -> str:
        return f"unix://{self.unix}" if self.unix else f"tcp://{self.tcp[0]}:{self.tcp[1]}"

    def connect(self, timeout: float = CONNECT_SECONDS) -> socket.socket:
        try:
            if self.unix:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                with unix_path(self.unix) as short:
                    sock.connect(short)
            else:
                sock = socket.create_connection(self.tcp, timeout=timeout)
        except OSError as exc:
            raise EngineGone(f"cannot reach the daemon at {self.describe()}: {exc.strerror or exc}") from None
        return sock


def resolve_daemon(docker_env: dict[str, str], home: str | None = None) -> Daemon:
    """The session's daemon. Raises UnsupportedDaemon for ssh:// or a TLS daemon (not watched yet)."""
    home = home or os.path.expanduser("~")
    try:
        return Daemon(unix=daemon_socket(docker_env, home))
    except UnsupportedDaemon:
        host = docker_env.get("DOCKER_HOST") or context_host(docker_env.get("DOCKER_CONTEXT") or "default",
                                                            docker_config_dir(docker_env, home)) or ""
        parts = urllib.parse.urlsplit(host)
        if parts.scheme == "tcp" and parts.hostname and not docker_env.get("DOCKER_TLS_VERIFY"):
            return Daemon(tcp=(parts.hostname, parts.port or 2375))
        raise


def _request(sock: socket.socket, method: str, path: str) -> None:
    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: wingman-run-monitor\r\n"
                 f"Accept: application/json\r\n\r\n".encode())


class _Reader:
    """HTTP/1.1 response reading on a raw socket: head, then chunked or sized body, with a stop flag."""

    def __init__(self, sock: socket.socket, stopped: Callable[[], bool]):
        self.sock, self.stopped, self.buf = sock, stopped, bytearray()

    def _more(self) -> bool:
        while True:
            if self.stopped():
                return False
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as exc:
                raise EngineGone(f"the event stream broke off ({exc.strerror or exc})") from None
            if not data:
                raise EngineGone("the daemon closed the event stream")
            self.buf += data
            return True

    def line(self) -> bytes | None:
        while b"\r\n" not in self.buf:
            if not self._more():
                return None
        end = self.buf.index(b"\r\n")
        out = bytes(self.buf[:end])
        del self.buf[:end + 2]
        return out

    def exact(self, count: int) -> bytes | None:
        while len(self.buf) < count:
            if not self._more():
                return None
        out = bytes(self.buf[:count])
        del self.buf[:count]
        return out

    def head(self) -> tuple[int, dict[str, str]] | None:
        status = self.line()
        if status is None:
            return None
        try:
            code = int(status.split()[1])
        except (IndexError, ValueError):
            raise EngineGone("the daemon's answer is not HTTP") from None
        headers = {}
        while True:
            line = self.line()
            if line is None:
                return None
            if not line:
                return code, headers
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()

    def chunks(self) -> Iterator[bytes]:
        while True:
            size_line = self.line()
            if size_line is None:
                return
            try:
                size = int(size_line.split(b";")[0], 16)
            except ValueError:
                raise EngineGone("the event stream's framing is broken") from None
            if size == 0:
                return
            data = self.exact(size + 2)
            if data is None:
                return
            yield data[:-2]


def events(daemon: Daemon, *, since: float | None = None, until: float | None = None,
           actions=(), stopped: Callable[[], bool] = lambda: False,
           opened: Callable[[socket.socket], None] = lambda sock: None) -> Iterator[dict]:
    """The daemon's events as they come. Returns when `until` is reached or `stopped()` says so;
    raises EngineGone when the daemon goes away (never ends silently)."""
    query = {}
    if since is not None:
        query["since"] = f"{since:.9f}"
    if until is not None:
        query["until"] = f"{until:.9f}"
    if actions:
        query["filters"] = json.dumps({"event": list(actions)})
    sock = daemon.connect()
    try:
        sock.settimeout(READ_SLICE)
        _request(sock, "GET", "/events?" + urllib.parse.urlencode(query))
        reader = _Reader(sock, stopped)
        head = reader.head()
        if head is None:
            return
        code, headers = head
        if code != 200:
            raise EngineGone(f"the daemon refused the event stream ({code})")
        opened(sock)
        pending = b""
        body = reader.chunks() if "chunked" in headers.get("transfer-encoding", "").lower() else _sized(reader, headers)
        for chunk in body:
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue
        if until is None and not stopped():
            raise EngineGone("the daemon ended the event stream")
    finally:
        sock.close()


def _sized(reader: _Reader, headers: dict) -> Iterator[bytes]:
    length = headers.get("content-length")
    if length is None:
        while True:
            if not reader._more():
                return
            data, reader.buf = bytes(reader.buf), bytearray()
            yield data
    data = reader.exact(int(length))
    if data:
        yield data


def get_json(daemon: Daemon, path: str, timeout: float = 2.0):
    """One GET; None on 404, on any failure too (callers treat it as unknown)."""
    try:
        sock = daemon.connect(timeout)
    except EngineGone:
        return None
    try:
        sock.settimeout(timeout)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode())
        reader = _Reader(sock, lambda: False)
        head = reader.head()
        if head is None or head[0] != 200:
            return None
        code, headers = head
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b"".join(reader.chunks())
        else:
            body = reader.exact(int(headers.get("content-length", "0"))) or b""
        return json.loads(body)
    except (EngineGone, OSError, ValueError):
        return None
    finally:
        sock.close()


def ping(daemon: Daemon) -> bool:
    try:
        sock = daemon.connect(1.0)
    except EngineGone:
        return False
    try:
        sock.settimeout(1.0)
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        sock.close()
