"""Grants: one approval covers exactly the approved argv, in that directory, once (or within the reuse window)."""

from __future__ import annotations

import multiprocessing
import os
import stat
import time

from sandbox.approvals import grants
from sandbox.approvals.grants import grant, take

ARGV = ["docker", "stop", "victim"]
CWD = "/home/dev/shop"


def test_once_only(tmp_path):
    grant(tmp_path, ARGV, CWD, 0, "req-1")
    assert take(tmp_path, ARGV, CWD) == "req-1"
    assert take(tmp_path, ARGV, CWD) is None


def test_nothing_granted(tmp_path):
    assert take(tmp_path / "no-session-yet", ARGV, CWD) is None


def test_other_argv_or_cwd_not_covered(tmp_path):
    grant(tmp_path, ARGV, CWD, 0, "req-1")
    assert take(tmp_path, ["docker", "stop", "victim2"], CWD) is None
    assert take(tmp_path, ["docker", "stop", "victim", "--time", "0"], CWD) is None
    assert take(tmp_path, ["docker", "stop victim"], CWD) is None  # same words, different argv
    assert take(tmp_path, ARGV, "/home/dev") is None
    assert take(tmp_path, ARGV, CWD + "/") == "req-1"  # the same directory spelled with a trailing slash


def test_reuse_window(tmp_path):
    now = time.time()
    grant(tmp_path, ARGV, CWD, 60, "req-2", now=now)
    assert take(tmp_path, ARGV, CWD, now=now + 1) == "req-2"
    assert take(tmp_path, ARGV, CWD, now=now + 59) == "req-2"
    assert take(tmp_path, ARGV, CWD, now=now + 61) is None


def test_untaken_once_only_grant_expires(tmp_path):
    now = time.time()
    grant(tmp_path, ARGV, CWD, 0, "req-3", now=now)
    assert take(tmp_path, ARGV, CWD, now=now + grants.ONCE_TTL_SECONDS + 1) is None


def test_damaged_file_means_no_grants(tmp_path):
    grant(tmp_path, ARGV, CWD, 0, "req-4")
    (tmp_path / grants.GRANTS_FILE).write_text("{not json")
    assert take(tmp_path, ARGV, CWD) is None
    grant(tmp_path, ARGV, CWD, 0, "req-5")
    assert take(tmp_path, ARGV, CWD) == "req-5"


def test_grant_file_is_private(tmp_path):
    grant(tmp_path, ARGV, CWD, 0, "req-6")
    assert stat.S_IMODE(os.stat(tmp_path / grants.GRANTS_FILE).st_mode) == 0o600


def _taker(session_dir, start_at, results):
    while time.time() < start_at:
        time.sleep(0.001)
    results.put(take(session_dir, ARGV, CWD))


def test_concurrent_takers_get_it_at_most_once(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for round_ in range(5):
        grant(tmp_path, ARGV, CWD, 0, f"req-{round_}")
        results = ctx.Queue()
        start_at = time.time() + 0.3
        procs = [ctx.Process(target=_taker, args=(tmp_path, start_at, results)) for _ in range(8)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(10)
        got = [results.get(timeout=5) for _ in procs]
        assert got.count(f"req-{round_}") == 1 and got.count(None) == 7
