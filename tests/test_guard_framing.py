"""Message framing: the guard finds message ends exactly where the daemon does, or refuses to forward."""

from __future__ import annotations

import pytest

from sandbox.guard.framing import ChunkedScanner, FramingError, head_end, parse_request_head, parse_response_head

BODY = b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: y\r\n\r\n"
NEXT = b"POST /containers/victim/stop HTTP/1.1\r\nHost: d\r\n\r\n"


def test_chunked_end_is_found_whatever_the_reads_look_like():
    data = BODY + NEXT
    for cut in range(len(BODY) + 1):
        scanner = ChunkedScanner(keep=True)
        first = scanner.feed(data[:cut])
        end = first if scanner.done else scanner.feed(data, cut)
        assert end == len(BODY) and scanner.done and bytes(scanner.kept) == b"helloabc"


def test_chunked_one_byte_at_a_time():
    scanner = ChunkedScanner()
    used = sum(scanner.feed(BODY[i:i + 1]) for i in range(len(BODY)))
    assert used == len(BODY) and scanner.done


@pytest.mark.parametrize("bad", [
    b"5\nhello\r\n0\r\n\r\n",            # bare LF after the size
    b"5 \r\nhello\r\n0\r\n\r\n",          # whitespace the daemon would trim
    b"0x5\r\nhello\r\n0\r\n\r\n",
    b"5\r\nhelloX\r\n0\r\n\r\n",          # data longer than its size
    b"-1\r\n",
    b"5\r\nhello\r\n0\r\nno colon\r\n\r\n",
    b"1" * 5000,
])
def test_chunked_doubts_are_errors(bad):
    with pytest.raises(FramingError):
        ChunkedScanner().feed(bad)


def head(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_request_heads():
    parsed = parse_request_head(head("POST /v1.41/containers/x/stop?t=1 HTTP/1.1", "Host: docker", "Content-Length: 0"))
    assert (parsed.method, parsed.target, parsed.body) == ("POST", "/v1.41/containers/x/stop?t=1", "none")
    chunked = parse_request_head(head("PUT /containers/x/archive HTTP/1.1", "Host: d", "Transfer-Encoding: chunked"))
    assert chunked.body == "chunked"
    upgrade = parse_request_head(head("POST /exec/1/start HTTP/1.1", "Host: d", "Connection: Upgrade", "Upgrade: tcp", "Content-Length: 2"))
    assert upgrade.wants_upgrade and upgrade.length == 2


@pytest.mark.parametrize("bad", [
    b"POST /containers/x/stop HTTP/1.1\nHost: d\n\n",                               # bare LF
    head("POST /containers/x/stop HTTP/1.1", "Host: d", " folded: yes"),
    head("POST /a HTTP/1.1", "Host: d", "Content-Length: 5", "Transfer-Encoding: chunked"),
    head("POST /a HTTP/1.1", "Host: d", "Content-Length: 5", "Content-Length: 6"),
    head("POST /a HTTP/1.1", "Host: d", "Transfer-Encoding: gzip, chunked"),
    head("POST http://docker/containers/x/stop HTTP/1.1", "Host: d"),              # absolute form
    head("POST /a HTTP/1.1", "Host: d", "Bad Header: x"),
    head("POST /a HTTP/1.1"),                                                       # HTTP/1.1 without Host
    head("POST /a b HTTP/1.1", "Host: d"),
])
def test_request_heads_the_guard_refuses(bad):
    with pytest.raises(FramingError):
        parse_request_head(bad[:head_end(bad)] if head_end(bad) > 0 else bad)


def test_head_end_and_its_bound():
    assert head_end(b"GET / HTTP/1.1\r\nHost: d\r\n\r\nrest") == len(b"GET / HTTP/1.1\r\nHost: d\r\n\r\n")
    assert head_end(b"GET / HTTP/1.1\r\n") == -1
    with pytest.raises(FramingError):
        head_end(b"GET /" + b"a" * 70000)


def test_response_heads():
    assert parse_response_head(head("HTTP/1.1 200 OK", "Content-Length: 12"), "GET").body == "length"
    assert parse_response_head(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"), "GET").body == "chunked"
    assert parse_response_head(head("HTTP/1.1 200 OK", "Content-Length: 12"), "HEAD").body == "none"
    assert parse_response_head(head("HTTP/1.1 204 No Content"), "POST").body == "none"
    assert parse_response_head(head("HTTP/1.1 100 Continue"), "PUT").interim
    upgraded = parse_response_head(head("HTTP/1.1 101 UPGRADED", "Content-Type: application/vnd.docker.raw-stream",
                                        "Connection: Upgrade", "Upgrade: tcp"), "POST")
    assert upgraded.switches
    legacy = parse_response_head(head("HTTP/1.1 200 OK", "Content-Type: application/vnd.docker.raw-stream"), "POST")
    assert legacy.switches and legacy.body == "close"
    with pytest.raises(FramingError):
        parse_response_head(b"SSH-2.0-x\r\n\r\n", "GET")
