"""The whole ask round trip against a real Wingman-compatible server process."""

from __future__ import annotations

import io
import socket
import time

import pytest

from sandbox.approvals.client import WingmanClient
from sandbox.approvals.ledger import entries, record
from sandbox.approvals.wait import request_approval
from test_approvals_instruction import subject
from wingman_fixture import KEYS, LEGACY_KEY, wingman_server, wingman_server_factory  # noqa: F401


class Terminal(io.StringIO):
    def isatty(self):
        return True


def ask(settings, **kwargs):
    stream = io.StringIO()
    result = request_approval(settings, kwargs.pop("subj", subject()), stream=stream, **kwargs)
    return result, stream.getvalue()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_instruction_reaches_a_human_and_a_bare_one_is_auto_rejected(wingman_server):
    client = WingmanClient(wingman_server.settings())
    bare = client.submit({"instruction": "docker stop db", "worker_id": "w", "task_name": "docker stop db"})
    assert bare.status == "AUTO_REJECTED" and "quality" in bare.reason.lower()
    wingman_server.decide_when_pending("approve")
    result, _ = ask(wingman_server.settings())
    filed = [r for r in wingman_server.requests() if r["task_name"] == "docker stop victim"]
    assert filed[0]["worker_id"] == "wingman-run/claude@devbox"
    assert result.approved  # it was PENDING, not AUTO_REJECTED, or nobody could have approved it


def test_approved(wingman_server):
    wingman_server.decide_when_pending("approve", decided_by="mark", note="go ahead")
    result, out = ask(wingman_server.settings())
    assert result.approved and result.status == "APPROVED"
    assert (result.decided_by, result.note) == ("mark", "go ahead")
    request_id = result.request_id
    assert f"request {request_id} filed" in out
    assert f"/approve {request_id.split('-')[0]}" in out
    assert f"{wingman_server.url}/approvals/{request_id}/approve" in out
    assert "risk: MEDIUM" in out and "approved (APPROVED) by mark" in out


def test_rejected_shows_who_and_why(wingman_server):
    wingman_server.decide_when_pending("reject", decided_by="mark", note="not during the demo")
    result, out = ask(wingman_server.settings())
    assert not result.approved and result.status == "REJECTED"
    assert (result.decided_by, result.note) == ("mark", "not during the demo")
    assert "refused: REJECTED by mark; note: not during the demo" in out


def test_expired(wingman_server):
    wingman_server.decide_when_pending("expire")
    result, _ = ask(wingman_server.settings())
    assert not result.approved and result.status == "EXPIRED"


def test_timeout(wingman_server):
    started = time.monotonic()
    result, out = ask(wingman_server.settings(timeout_seconds=0.5))
    assert not result.approved and result.status == "TIMEOUT"
    assert time.monotonic() - started < 3 and 0.5 <= result.waited_seconds < 3
    assert "no decision within" in out


def test_auto_approved(wingman_server):
    wingman_server.misbehave(auto_approve=True)
    result, _ = ask(wingman_server.settings())
    assert result.approved and result.status == "AUTO_APPROVED"


def test_server_down_refuses_within_seconds():
    from sandbox.approvals.config import WingmanSettings
    settings = WingmanSettings(url=f"http://127.0.0.1:{closed_port()}", request_key=KEYS["request_key"])
    started = time.monotonic()
    result, out = ask(settings)
    assert time.monotonic() - started < 15
    assert not result.approved and result.status == "ERROR"
    assert "connection refused" in result.error and "WINGMAN_API_URL" in result.error
    assert "refused: no decision could be obtained" in out


def test_unroutable_address_gives_up_at_the_connect_timeout():
    from sandbox.approvals.config import WingmanSettings
    settings = WingmanSettings(url="http://10.255.255.1:9", connect_timeout_seconds=1)
    started = time.monotonic()
    result, _ = ask(settings)
    assert time.monotonic() - started < 5 and result.status == "ERROR"


def test_wrong_request_key(wingman_server):
    result, _ = ask(wingman_server.settings(request_key="wrong-key-123456"))
    assert result.status == "ERROR" and "401" in result.error and "WINGMAN_APPROVAL_REQUEST_KEY" in result.error
    assert "wrong-key-123456" not in result.error


def test_wrong_read_key_refuses_while_waiting(wingman_server):
    result, _ = ask(wingman_server.settings(read_key="wrong-read-123456"))
    assert result.status == "ERROR" and "WINGMAN_APPROVAL_READ_KEY" in result.error and result.request_id


def test_legacy_key_reads_and_decides(wingman_server_factory):
    server = wingman_server_factory(request_key=None, read_key=None, decide_key=None, legacy_key=LEGACY_KEY)
    server.decide_when_pending("approve", decided_by="mark")
    result, out = ask(server.settings())
    assert result.approved
    assert any(h.get("X-Wingman-Approval-Key") == LEGACY_KEY for h in server.seen_headers())
    assert "X-Wingman-Approval-Key: $WINGMAN_APPROVAL_API_KEY" in out


@pytest.mark.parametrize("mode,expect", [
    ("error500", "500"), ("garbage", "not JSON"), ("wrong_json", "not an approval answer"), ("unauthorized", "401"),
])
def test_bad_answers_when_filing_refuse_quickly(wingman_server, mode, expect):
    wingman_server.misbehave(mode, scope="request")
    started = time.monotonic()
    result, _ = ask(wingman_server.settings())
    assert time.monotonic() - started < 5
    assert not result.approved and result.status == "ERROR" and expect in result.error


@pytest.mark.parametrize("mode,expect", [("error500", "500"), ("garbage", "not JSON"), ("wrong_json", "not an approval")])
def test_bad_answers_while_polling_refuse_within_seconds(wingman_server, mode, expect):
    wingman_server.misbehave(mode, scope="poll")
    started = time.monotonic()
    result, _ = ask(wingman_server.settings(timeout_seconds=60))
    assert time.monotonic() - started < 15
    assert not result.approved and result.status == "ERROR" and expect in result.error and result.request_id


def test_slow_answer_refuses_at_the_answer_timeout(wingman_server):
    wingman_server.misbehave("normal", scope="request", delay=5)
    started = time.monotonic()
    result, _ = ask(wingman_server.settings(answer_timeout_seconds=1))
    assert time.monotonic() - started < 4
    assert result.status == "ERROR" and "no answer within 1 s" in result.error.replace("gave no answer", "no answer")


def test_server_dying_mid_wait_refuses_within_seconds(wingman_server):
    def kill_when_pending():
        wingman_server.wait_for_pending()
        wingman_server.stop()
    import threading
    threading.Thread(target=kill_when_pending, daemon=True).start()
    started = time.monotonic()
    result, _ = ask(wingman_server.settings(timeout_seconds=60))
    assert time.monotonic() - started < 15
    assert result.status == "ERROR" and "connection refused" in result.error


def test_deduped_joins_the_pending_request(wingman_server):
    settings = wingman_server.settings(timeout_seconds=0.3)
    first, _ = ask(settings)
    assert first.status == "TIMEOUT"  # left pending in Wingman
    wingman_server.decide_when_pending("approve", decided_by="mark")
    second, out = ask(wingman_server.settings())
    assert second.deduped and second.request_id == first.request_id and second.approved
    assert "already pending; joining it" in out
    assert len(wingman_server.requests()) == 1


def test_quarantined_worker_is_refused(wingman_server):
    wingman_server.quarantine("wingman-run/claude@devbox", reason="three rejections in a row")
    result, _ = ask(wingman_server.settings())
    assert not result.approved and result.status == "AUTO_REJECTED"
    assert "three rejections in a row" in result.note


def test_ctrl_c_while_waiting_refuses(wingman_server):
    def interrupt(_seconds):
        raise KeyboardInterrupt
    result, out = ask(wingman_server.settings(), sleep=interrupt)
    assert not result.approved and result.status == "CANCELLED" and result.request_id
    assert "stays open in Wingman" in out


def test_tty_gets_one_live_line_and_the_log_gets_whole_lines(wingman_server):
    wingman_server.decide_when_pending("approve")
    tty = Terminal()
    stream = io.StringIO()
    result = request_approval(wingman_server.settings(poll_seconds=0.3), subject(), stream=stream, tty=tty)
    assert result.approved
    assert "\r" in tty.getvalue() and "waiting" in tty.getvalue()
    assert "\r" not in stream.getvalue() and "request" in stream.getvalue()


def test_keys_never_appear_in_output_errors_or_ledger(wingman_server, tmp_path):
    secrets = [*KEYS.values(), "wrong-key-123456"]
    runs = []
    wingman_server.decide_when_pending("reject", note="no")
    runs.append(ask(wingman_server.settings()))
    runs.append(ask(wingman_server.settings(request_key="wrong-key-123456")))
    wingman_server.misbehave("error500", scope="request")
    runs.append(ask(wingman_server.settings()))
    for result, out in runs:
        record(tmp_path, subject(), result)
        text = out + repr(result)
        assert not any(secret in text for secret in secrets)
    ledger = (tmp_path / "approvals.jsonl").read_text()
    assert len(entries(tmp_path)) == 3 and not any(secret in ledger for secret in secrets)
    for request in wingman_server.requests():
        assert not any(secret in request["instruction"] for secret in secrets)
