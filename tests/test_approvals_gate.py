"""One request per command across layers: the hook asks and hands over, the stub takes the grant."""

from __future__ import annotations

import io

from sandbox.approvals import ask
from sandbox.approvals.ledger import entries
from test_approvals_instruction import subject
from wingman_fixture import wingman_server  # noqa: F401


def test_hook_asks_once_and_the_stub_runs_on_the_grant(wingman_server, tmp_path):
    wingman_server.decide_when_pending("approve", decided_by="mark")
    hook = ask(wingman_server.settings(), subject(layer="shell hook"), tmp_path, hand_over=True, stream=io.StringIO())
    stub = ask(wingman_server.settings(), subject(), tmp_path, hand_over=False, stream=io.StringIO())
    assert hook.approved and stub.approved and stub.status == "GRANTED" and stub.request_id == hook.request_id
    assert len(wingman_server.requests()) == 1
    assert [e["status"] for e in entries(tmp_path)] == ["APPROVED"]
    again = ask(wingman_server.settings(timeout_seconds=0.3), subject(), tmp_path, hand_over=False,
                stream=io.StringIO())
    assert again.status == "TIMEOUT"  # the same command later asks again


def test_last_layer_leaves_no_grant_behind(wingman_server, tmp_path):
    wingman_server.decide_when_pending("approve")
    assert ask(wingman_server.settings(), subject(), tmp_path, hand_over=False, stream=io.StringIO()).approved
    later = ask(wingman_server.settings(timeout_seconds=0.3), subject(), tmp_path, hand_over=False,
                stream=io.StringIO())
    assert later.status == "TIMEOUT"


def test_reuse_window_covers_the_same_command(wingman_server, tmp_path):
    settings = wingman_server.settings(reuse_seconds=60)
    wingman_server.decide_when_pending("approve")
    assert ask(settings, subject(), tmp_path, hand_over=False, stream=io.StringIO()).approved
    assert ask(settings, subject(), tmp_path, hand_over=False, stream=io.StringIO()).status == "GRANTED"
    assert ask(settings, subject(), tmp_path, hand_over=False, stream=io.StringIO()).status == "GRANTED"
    other = ask(wingman_server.settings(reuse_seconds=60, timeout_seconds=0.3),
                subject(argv=("docker", "stop", "firm-app")), tmp_path, hand_over=False, stream=io.StringIO())
    assert other.status == "TIMEOUT"


def test_rejection_grants_nothing(wingman_server, tmp_path):
    wingman_server.decide_when_pending("reject", note="no")
    assert not ask(wingman_server.settings(), subject(), tmp_path, hand_over=True, stream=io.StringIO()).approved
    assert ask(wingman_server.settings(timeout_seconds=0.3), subject(), tmp_path, hand_over=False,
               stream=io.StringIO()).status == "TIMEOUT"


def test_no_backend_means_deny(tmp_path):
    outcome = ask(None, subject(), tmp_path, hand_over=True, stream=io.StringIO())
    assert not outcome.approved and outcome.status == "NO_BACKEND" and "WINGMAN_API_URL" in outcome.error
    assert entries(tmp_path)[0]["status"] == "NO_BACKEND"
