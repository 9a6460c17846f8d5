"""The session's approval ledger: what `wingman-sandbox approvals` lists."""

from __future__ import annotations

import threading

from sandbox.approvals.ledger import LEDGER_FILE, entries, record
from sandbox.approvals.wait import Outcome
from test_approvals_instruction import subject


def outcome(**overrides):
    values = dict(approved=False, status="REJECTED", request_id="6b0c1d2e-aaaa", decided_by="mark",
                  note="not during the demo", risk="MEDIUM", waited_seconds=12.5, error=None)
    values.update(overrides)
    return Outcome(**values)


def test_record_and_list(tmp_path):
    record(tmp_path, subject(), outcome())
    record(tmp_path, subject(), outcome(approved=True, status="APPROVED", request_id="7c", note=None))
    found = entries(tmp_path)
    assert [e["status"] for e in found] == ["REJECTED", "APPROVED"]
    first = found[0]
    assert first["request_id"] == "6b0c1d2e-aaaa" and first["decided_by"] == "mark"
    assert first["note"] == "not during the demo" and first["waited_seconds"] == 12.5
    assert first["argv"] == ["docker", "stop", "victim"] and first["task_name"] == "docker stop victim"
    assert first["rule"] == "docker.container.stop" and first["cwd"] == "/home/dev/shop"


def test_an_argument_that_is_not_utf8_is_recorded(tmp_path):
    """argv comes in as bytes: `docker stop $'\\xff'` arrives with a surrogate, which must not cost the entry."""
    odd = b"\xff\xfe".decode("utf-8", "surrogateescape")
    record(tmp_path, subject(argv=("docker", "stop", odd)), outcome())
    assert entries(tmp_path)[0]["argv"] == ["docker", "stop", odd]


def test_damaged_lines_are_skipped(tmp_path):
    record(tmp_path, subject(), outcome())
    with open(tmp_path / LEDGER_FILE, "a") as f:
        f.write("{half a line\n")
    record(tmp_path, subject(), outcome())
    assert len(entries(tmp_path)) == 2
    assert entries(tmp_path / "missing") == []


def test_concurrent_records_do_not_interleave(tmp_path):
    threads = [threading.Thread(target=lambda: [record(tmp_path, subject(), outcome()) for _ in range(20)])
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(entries(tmp_path)) == 100
