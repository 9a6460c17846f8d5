"""Ask means ask, end to end: the docker stub files a request with a real Wingman-compatible
server process, a human (this test, over HTTP) decides, and the real engine shows the result."""

from __future__ import annotations

import socket
import time

import pytest

from fixtures_engine import LABEL, container_state, docker, names
from wingman_fixture import KEYS, wingman_server  # noqa: F401

TARGET = names.unique("approval-target")


@pytest.fixture()
def target(engine):
    docker("rm", "-f", TARGET, check=False)
    docker("run", "-d", "--name", TARGET, "--label", LABEL, "--network", "none", "wingman-test:latest", "sleep", "1d")
    yield TARGET
    docker("rm", "-f", TARGET, check=False)


def _env(server) -> dict:
    return {
        "WINGMAN_API_URL": server.url,
        "WINGMAN_APPROVAL_REQUEST_KEY": KEYS["request_key"],
        "WINGMAN_APPROVAL_READ_KEY": KEYS["read_key"],
    }


def _profile(tmp_path, timeout: float = 20) -> str:
    path = tmp_path / "fast.yaml"
    path.write_text(f"approvals:\n  poll_seconds: 0.2\n  timeout_seconds: {timeout}\n")
    return str(path)


def test_approved_command_runs_with_dockers_exit_status(wingman_home, wingman_server, target, tmp_path):
    wingman_server.decide_when_pending("approve", decided_by="alice", note="go ahead")
    result = wingman_home.run("--profile", _profile(tmp_path), "--", "docker", "stop", "-t", "0", target,
                              env=_env(wingman_server))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == target  # docker's own output
    assert container_state(target) == "exited"
    request = wingman_server.requests()[0]
    assert request["status"] == "APPROVED"
    assert request["task_name"].startswith("docker stop")
    for section in ("DELIVERABLES:", "RISK_ASSESSMENT:", "MITIGATION:"):
        assert section in request["instruction"]
    assert target in request["instruction"]
    decision = next(e for e in wingman_home.events() if e["event"] == "decision")
    assert decision["verdict"] == "ask"
    assert decision["approval"]["request_id"] == request["request_id"]
    assert decision["approval"]["status"] == "APPROVED"
    assert decision["approval"]["decided_by"] == "alice"
    assert "waited_seconds" in decision["approval"]
    exit_event = next(e for e in wingman_home.events() if e["event"] == "exit")
    assert exit_event["exit"] == 0 and exit_event["id"] == decision["id"]
    listed = wingman_home.sandbox("approvals", "--session", decision["session"])
    assert "APPROVED" in listed.stdout and "alice" in listed.stdout and request["request_id"][:8] in listed.stdout


def test_approval_covers_that_command_once(wingman_home, wingman_server, target, tmp_path):
    wingman_server.decide_when_pending("approve")
    script = f"docker pause {target} && docker unpause {target} && docker pause {target}"
    result = wingman_home.run("--profile", _profile(tmp_path, timeout=3), "--", "bash", "-c", script,
                              env=_env(wingman_server), timeout=90)
    # The second pause asks again; nobody answers it, so it times out and is refused.
    assert result.returncode != 0
    assert len(wingman_server.requests()) == 2
    assert container_state(target) == "running"


def test_rejected_command_does_not_run(wingman_home, wingman_server, target, tmp_path):
    wingman_server.decide_when_pending("reject", decided_by="bob", note="not on prod")
    result = wingman_home.run("--profile", _profile(tmp_path), "--", "docker", "rm", "-f", target, env=_env(wingman_server))
    assert result.returncode == 1
    assert container_state(target) == "running"
    assert "bob" in result.stderr and "not on prod" in result.stderr
    decision = next(e for e in wingman_home.events() if e["event"] == "decision")
    assert decision["approval"]["status"] == "REJECTED" and decision["exit"] == 1


def test_unreachable_wingman_refuses_within_seconds(wingman_home, target, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    result = wingman_home.run("--profile", _profile(tmp_path), "--", "docker", "stop", target,
                              env={"WINGMAN_API_URL": f"http://127.0.0.1:{port}"})
    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert container_state(target) == "running"
    assert "wingman-run: refused" in result.stderr


def test_no_decision_in_time_refuses(wingman_home, wingman_server, target, tmp_path):
    result = wingman_home.run("--profile", _profile(tmp_path, timeout=1.5), "--", "docker", "kill", target,
                              env=_env(wingman_server))
    assert result.returncode == 1
    assert container_state(target) == "running"
    decision = next(e for e in wingman_home.events() if e["event"] == "decision")
    assert decision["approval"]["status"] == "TIMEOUT"


def test_keys_never_reach_the_session_or_the_log(wingman_home, wingman_server, target, tmp_path):
    inside = wingman_home.run("--profile", _profile(tmp_path, timeout=1), "--", "sh", "-c", "env; docker stop " + target,
                              env=_env(wingman_server))
    assert inside.returncode == 1  # asked, nobody answered
    log = wingman_home.audit_log.read_text()
    for key in KEYS.values():
        assert key not in inside.stdout and key not in inside.stderr and key not in log
    assert "WINGMAN_API_URL" in inside.stdout  # the URL is no secret; the keys are


def test_one_request_per_command_across_layers(wingman_home, wingman_server, target, tmp_path):
    """The bash hook asks for `command docker ...`; the stub then runs the same argv without asking again."""
    wingman_server.decide_when_pending("approve", decided_by="carol")
    result = wingman_home.run("--profile", _profile(tmp_path), "--", "bash", "-c",
                              f"command docker stop -t 0 {target}", env=_env(wingman_server))
    assert result.returncode == 0, result.stderr
    assert container_state(target) == "exited"
    assert len(wingman_server.requests()) == 1
    layers = {e["layer"]: e for e in wingman_home.events() if e["event"] == "decision"}
    assert layers["hook"]["approval"]["status"] == "APPROVED"
    assert layers["stub"]["approval"]["status"] == "GRANTED"
    assert layers["stub"]["approval"]["request_id"] == layers["hook"]["approval"]["request_id"]


def test_a_plain_call_is_asked_once_by_the_stub(wingman_home, wingman_server, target, tmp_path):
    """A plain `docker ...` reaches the stub by PATH: the hook leaves it to the stub, which sees the real argv."""
    wingman_server.decide_when_pending("approve", decided_by="carol")
    result = wingman_home.run("--profile", _profile(tmp_path), "--", "bash", "-c", f"docker stop -t 0 {target}",
                              env=_env(wingman_server))
    assert result.returncode == 0, result.stderr
    assert container_state(target) == "exited"
    assert len(wingman_server.requests()) == 1
    decisions = [e for e in wingman_home.events() if e["event"] == "decision"]
    # The hook asked nothing; behind isolation the guard saw the API call and passed it on the stub's approval.
    assert [e["layer"] for e in decisions if e["layer"] != "guard"] == ["stub"]
    assert decisions[0]["approval"]["status"] == "APPROVED"
    assert all(e["approval"]["status"] == "GRANTED" for e in decisions if e["layer"] == "guard")


def test_ctrl_c_while_waiting_refuses(wingman_home, wingman_server, target, tmp_path):
    """At a terminal, Ctrl-C during the wait refuses the command; the container keeps running."""
    import pexpect

    from conftest import WINGMAN_RUN

    child = pexpect.spawn(WINGMAN_RUN, ["--profile", _profile(tmp_path), "--", "docker", "stop", target],
                          env={**wingman_home.env, **_env(wingman_server)}, encoding="utf-8", timeout=20)
    child.expect("approve in Telegram: /approve [0-9a-f]{8}")
    child.sendintr()
    child.expect("wingman-run: refused: docker stop")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert container_state(target) == "running"
    decision = next(e for e in wingman_home.events() if e["event"] == "decision")
    assert decision["approval"]["status"] == "CANCELLED" and decision["exit"] == 1


def test_approved_once_at_the_stub_the_guard_asks_nothing_more(wingman_home, wingman_server, tmp_path):
    """Behind isolation, a system prune is five API calls under other rules: the one approval covers them."""
    wingman_server.decide_when_pending("approve", decided_by="dana")
    only_ours = f"label={names.unique('prune-scope')}"  # prunes nothing that anybody has
    result = wingman_home.run("--profile", _profile(tmp_path), "--", "docker", "system", "prune", "-f", "--volumes",
                              "--filter", only_ours, env=_env(wingman_server))
    assert result.returncode == 0, result.stderr
    assert len(wingman_server.requests()) == 1
    guard = [e for e in wingman_home.events() if e["event"] == "decision" and e["layer"] == "guard"]
    assert {e["rule"] for e in guard} >= {"docker.container.prune", "docker.network.prune", "docker.image.prune",
                                          "docker.volume.prune"}
    assert all(e["approval"]["status"] == "GRANTED" for e in guard), guard
