"""The real guard process in front of the real engine: reads and streams pass, nothing else passes without the broker.

These sessions have no broker (none is started): every call that is not a read
must come back 403 and leave the target untouched. Calls that the broker
allows are tested end to end in test_guard_vectors.py.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import pytest

import fixtures_engine
from guard_support import USER, Guard, ensure_user, make_session, own_container, state


@pytest.fixture(scope="module")
def guard(engine, tmp_path_factory):
    directory = make_session(tmp_path_factory.mktemp("guard") / "session")
    with Guard(directory) as running:
        yield running


@pytest.fixture(scope="module")
def user_guard(engine):
    """The guard of an ordinary user's session (in the docker group), run as that user."""
    ensure_user()
    root = Path(tempfile.mkdtemp(prefix="wmguard-"))
    try:
        directory = make_session(root / "session", owner=USER)
        with Guard(directory, user=USER) as running:
            yield running
    finally:
        shutil.rmtree(root, ignore_errors=True)


def raw(sock_path: Path, data: bytes, timeout: float = 10) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(sock_path))
        sock.sendall(data)
        out = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_guard_socket_is_private(guard):
    assert guard.socket.stat().st_mode & 0o777 == 0o600


def test_reads_pass_unchanged(guard):
    name = own_container("g-read")
    through = guard.docker("ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}} {{.Status}}")
    assert through.returncode == 0, through.stderr
    assert through.stdout.startswith(name + " Up")
    inspect = guard.docker("inspect", "--format", "{{.Config.Image}}", name)
    assert inspect.stdout.strip() == fixtures_engine.BASE_IMAGE
    assert guard.docker("version", "--format", "{{.Server.APIVersion}}").returncode == 0


def test_logs_follow_streams_as_the_container_writes(guard):
    name = own_container("g-logs", "sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done")
    env = {"PATH": "/usr/bin:/bin", "DOCKER_HOST": f"unix://{guard.socket}"}
    follow = subprocess.Popen([fixtures_engine.DOCKER, "logs", "-f", name], stdout=subprocess.PIPE, text=True, env=env)
    try:
        seen = [follow.stdout.readline() for _ in range(8)]  # lines keep coming while the container writes
        assert seen[0].startswith("line ") and seen[-1].startswith("line ")
        assert int(seen[-1].split()[1]) > int(seen[0].split()[1])
    finally:
        follow.kill()
        follow.wait()


def test_events_stream_through(guard):
    name = own_container("g-events")
    env = {"PATH": "/usr/bin:/bin", "DOCKER_HOST": f"unix://{guard.socket}"}
    events = subprocess.Popen([fixtures_engine.DOCKER, "events", "--filter", f"container={name}", "--format", "{{.Action}}"],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(1)
        fixtures_engine.docker("pause", name)  # on the real socket: the event must reach the guarded stream
        assert events.stdout.readline().strip() == "pause"
    finally:
        events.kill()
        events.wait()
        fixtures_engine.docker("unpause", name, check=False)


def test_stats_and_copy_out(guard, tmp_path):
    name = own_container("g-cp")
    stats = guard.docker("stats", "--no-stream", "--format", "{{.Name}}", name)
    assert stats.stdout.strip() == name, stats.stderr
    copied = guard.docker("cp", f"{name}:/bin/busybox", str(tmp_path / "busybox"))
    assert copied.returncode == 0, copied.stderr
    assert (tmp_path / "busybox").stat().st_size > 100_000


def test_without_a_broker_nothing_changes(guard):
    name = own_container("g-victim")
    for args in (["stop", name], ["kill", name], ["rm", "-f", name], ["pause", name], ["rename", name, name + "x"],
                 ["run", "--rm", fixtures_engine.BASE_IMAGE, "true"]):
        result = guard.docker(*args)
        assert result.returncode != 0
        assert "wingman-run: refused" in result.stderr and "broker does not answer" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) <= 3  # one readable line (docker adds its own for run)
    assert state(name) == "running"


def test_raw_socket_stop_is_refused_with_an_api_error(guard):
    name = own_container("g-raw")
    answer = raw(guard.socket, f"POST /v1.41/containers/{name}/stop HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n".encode())
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 403 Forbidden"
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert "docker.container.stop" in body["message"]
    assert state(name) == "running"


def test_a_change_pipelined_behind_a_read_is_still_judged(guard):
    name = own_container("g-pipe")
    ping = b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"
    stop = f"POST /containers/{name}/stop HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n".encode()
    answer = raw(guard.socket, ping + stop + ping)
    assert answer.count(b"HTTP/1.1 200 OK") == 1 and b"HTTP/1.1 403 Forbidden" in answer
    assert state(name) == "running"


def test_a_change_hidden_in_a_read_body_is_not_a_request(guard):
    # A GET with a body that holds a request: the daemon reads the body as a body, and so does the guard.
    name = own_container("g-body")
    inner = f"POST /containers/{name}/stop HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n".encode()
    smuggle = b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(inner) + inner
    # The daemon answers the ping and closes, sometimes before the body is up: the answer must still arrive.
    answers = [raw(guard.socket, smuggle)[:15] for _ in range(40)]
    assert answers == [b"HTTP/1.1 200 OK"] * 40
    chunked = b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"
    assert raw(guard.socket, chunked).startswith(b"HTTP/1.1 200 OK")
    assert state(name) == "running"


@pytest.mark.parametrize("attack", [
    b"POST /containers/{name}/stop HTTP/1.1\nHost: d\n\n",
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /containers/{name}/stop HTTP/1.1\r\nHost: d\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n0 \r\n\r\nPOST /containers/{name}/stop HTTP/1.1\r\nHost: d\r\n\r\n",
    b"POST http://d/containers/{name}/stop HTTP/1.1\r\nHost: d\r\n\r\n",
    b"POST //containers/{name}/stop HTTP/1.1\r\nHost: d\r\n\r\n",
])
def test_ambiguous_messages_are_not_forwarded(guard, attack):
    name = own_container("g-ambiguous")
    answer = raw(guard.socket, attack.replace(b"{name}", name.encode()))
    # The stop never reaches the daemon: no 204, at most the answer to the read before it.
    assert b"HTTP/1.1 204" not in answer and answer.count(b"HTTP/1.1 ") <= 1
    assert state(name) == "running"


def test_guard_of_an_ordinary_user(user_guard):
    name = own_container("g-user")
    listed = user_guard.docker("ps", "--filter", f"name={name}", "--format", "{{.Names}}", user=USER)
    assert listed.stdout.strip() == name, listed.stderr
    stopped = user_guard.docker("stop", name, user=USER)
    assert stopped.returncode != 0 and "wingman-run: refused" in stopped.stderr
    assert state(name) == "running"
    assert user_guard.socket.owner() == USER


def test_daemon_gone_is_an_api_error_not_a_hang(engine, tmp_path):
    directory = make_session(tmp_path / "session", docker_env={"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"})
    with Guard(directory) as running:
        answer = raw(running.socket, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 502") and b"cannot reach the Docker daemon" in answer


def test_a_tcp_daemon_is_refused_at_start(tmp_path):
    directory = make_session(tmp_path / "session", docker_env={"DOCKER_HOST": "tcp://10.0.0.1:2376"})
    with pytest.raises(AssertionError, match="stands only in front of a local Unix socket"):
        Guard(directory).start()


def test_fifty_streams_at_once(guard):
    name = own_container("g-many", "sh", "-c", "while true; do echo tick; sleep 0.1; done")
    request = f"GET /containers/{name}/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: d\r\n\r\n".encode()
    socks = []
    try:
        for _ in range(50):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(10)
            sock.connect(str(guard.socket))
            sock.sendall(request)
            socks.append(sock)
        for sock in socks:
            data = b""
            while b"tick" not in data:
                data += sock.recv(4096)
        assert guard.docker("version", "--format", "{{.Server.Version}}").returncode == 0  # still answering
    finally:
        for sock in socks:
            sock.close()


def _forwarded(body: bytes) -> tuple[bytes, int]:
    """body through Stream.forward_length between two socket pairs: (what arrived, the send buffer it went out by)."""
    from sandbox.guard.proxy import Stream

    source, source_end = socket.socketpair()
    destination, destination_end = socket.socketpair()
    received = bytearray()

    def drain():
        while len(received) < len(body):
            received.extend(destination_end.recv(1 << 20))

    with source, source_end, destination, destination_end:
        writer = threading.Thread(target=source.sendall, args=(body,))
        reader = threading.Thread(target=drain)
        writer.start()
        reader.start()
        Stream(source_end).forward_length(destination, len(body))
        writer.join(10)
        reader.join(10)
        return bytes(received), destination.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)


def test_a_bulk_body_gets_a_larger_send_buffer_and_a_small_one_does_not():
    from sandbox.guard.proxy import BULK_SEND_BUFFER

    default = socket.socket(socket.AF_UNIX).getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    small, small_buffer = _forwarded(b"x" * 100)
    assert small == b"x" * 100 and small_buffer == default
    bulk = bytes(range(256)) * 16384  # 4 MB
    forwarded, bulk_buffer = _forwarded(bulk)
    assert forwarded == bulk and bulk_buffer >= BULK_SEND_BUFFER
