"""The stub's bash fast path may only ever allow what the policy core allows, with the same rule."""

from __future__ import annotations

import datetime
import itertools
import json
import random
import subprocess
import sys
import zlib

import pytest

from sandbox.policy import Context, Policy, Verdict, decide_argv
from sandbox.policy.packs.docker_grammar import COMPOSE_COMMANDS, GROUPS, SHORTCUTS, SINGLES
from sandbox.policy.profile import policy_from
from sandbox.stub.generate import classify_function, compose_function

WORDS = sorted({*SHORTCUTS, *SINGLES, *GROUPS, *COMPOSE_COMMANDS, "list", "remove", "ls", "rm", "prune", "-v", "--volumes",
                "-V", "--renew-anon-volumes", "-d", "-f", "x.yml", "-p", "proj", "--rmi", "all", "-H", "tcp://h:1",
                "--context", "prod", "-c", "--log-level", "error", "-l", "-D", "--config", "/tmp/c", "--help",
                "--", "-fv", "-tV", "-dV", "--format", "{{.Names}}", "victim", "-lerror", "--host=tcp://x", "--tls"})


def fast_path_verdicts(program: str, policy: Policy, argvs: list[list[str]], tmp_path=None) -> list[str | None]:
    """Run the generated __wr_classify over each argv in one bash; None where it defers.

    With tmp_path, compose's part is read from its own file, as the session's docker stub does.
    """
    compose_file = None
    if tmp_path is not None and program == "docker":
        compose_file = tmp_path / "compose-classifier.bash"
        compose_file.write_text(compose_function(policy) + "\n")
    script = classify_function(program, policy, str(compose_file) if compose_file else None) + r'''
while IFS= read -r -d '' line; do
  eval "set -- $line"
  __wr_rule=
  if __wr_classify "$@"; then printf '%s\n' "$__wr_rule"; else printf 'DEFER\n'; fi
done
'''
    payload = "".join(" ".join(_quote(a) for a in argv) + "\0" for argv in argvs)
    out = subprocess.run(["bash", "-c", script], input=payload, capture_output=True, text=True, check=True).stdout
    return [None if line == "DEFER" else line for line in out.splitlines()]


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _argvs(seed: int, count: int) -> list[list[str]]:
    rng = random.Random(seed)
    out = [[w] for w in WORDS]
    out += [list(pair) for pair in itertools.product(sorted(GROUPS), ["ls", "list", "rm", "remove", "prune", "stop", "inspect"])]
    for _ in range(count):
        out.append([rng.choice(WORDS) for _ in range(rng.randint(1, 6))])
    return out


PROFILES = {
    "default": policy_from({"level": "default"}),
    "strict": policy_from({"level": "strict"}),
    "tuned": policy_from({"rules": {"docker.compose.down": "allow", "docker.container.stop": "allow", "docker.container.ls": "deny"}}),
}


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("program", ["docker", "docker-compose"])
@pytest.mark.parametrize("compose_apart", [False, True], ids=["inline", "compose-file"])
def test_fast_path_never_allows_more_than_the_core(profile, program, compose_apart, tmp_path):
    policy = PROFILES[profile]
    argvs = _argvs(seed=zlib.crc32(f"{profile}/{program}".encode()), count=3000)
    fast = fast_path_verdicts(program, policy, argvs, tmp_path if compose_apart else None)
    assert len(fast) == len(argvs)
    ctx = Context()
    allowed_fast = 0
    for argv, rule in zip(argvs, fast):
        if rule is None:
            continue
        allowed_fast += 1
        decision = decide_argv([program, *argv], policy, ctx)
        assert decision.verdict is Verdict.ALLOW, (argv, rule, decision)
        assert decision.rule == rule, (argv, rule, decision.rule)
    assert allowed_fast > 50  # the fast path does take the everyday commands


def test_fast_path_takes_everyday_commands(tmp_path):
    policy = PROFILES["default"]
    everyday = [["ps"], ["ps", "-a"], ["logs", "firm-app"], ["--log-level", "error", "ps"], ["images"],
                ["container", "ls"], ["compose", "-f", "x.yml", "ps"], ["compose", "up", "-d"], ["run", "--rm", "x"],
                ["inspect", "--format", "{{.State.Status}}", "victim"], ["volume", "ls"], ["version"]]
    assert None not in fast_path_verdicts("docker", policy, everyday, tmp_path)
    risky = [["stop", "victim"], ["compose", "up", "-V"], ["compose", "up", "-dV"], ["-H", "tcp://x", "ps"],
             ["--context", "prod", "ps"], ["compose", "down"], ["system", "prune"], ["frobnicate"]]
    assert fast_path_verdicts("docker", policy, risky, tmp_path) == [None] * len(risky)




# -- the stub's exchange with the broker, against a broker whose answers the test chooses ----------

import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from sandbox.broker.address import BrokerAddress  # noqa: E402
from sandbox.broker.server import BrokerServer  # noqa: E402
from sandbox.session.record import Session  # noqa: E402
from sandbox.stub.generate import render_stub  # noqa: E402

# The program the stub runs: notes that it ran, lists the sockets it holds, ends as told.
FAKE_PROGRAM = """#!/bin/bash
echo ran >"$(dirname "$0")/ran"
for fd in /proc/$$/fd/*; do readlink "$fd"; done | grep -c '^socket:' >"$(dirname "$0")/sockets"
case " $* " in
  *" interrupt "*) kill -INT $$ ;;
  *) exit "${FAKE_STATUS:-0}" ;;
esac
"""


class ScriptedBroker:
    """A BrokerServer whose handler answers every request as the test says, and keeps what it got."""

    def __init__(self, directory, status=0, err=""):
        self.status, self.err = status, err
        self.requests: list[tuple[str, list[str]]] = []
        self.exits: list[int | None] = []
        self.ended = threading.Event()
        self.server = BrokerServer(directory, self.handle)
        self.server.start()

    def handle(self, verb, args, channel):
        self.requests.append((verb, args))
        if self.err:
            channel.send("err", self.err)
        if self.status == 0:
            channel.on_exit = self._exit
        return self.status

    def _exit(self, status):
        self.exits.append(status)
        self.ended.set()


def _stub(tmp_path, port: int, secret: str = "s" * 32) -> str:
    program = tmp_path / "real-docker"
    program.write_text(FAKE_PROGRAM)
    program.chmod(0o755)
    session = Session(id="test-session", dir=str(tmp_path), created=0.0, cwd=str(tmp_path), project_dir=str(tmp_path),
                      assistant="bash", host="test", profile_name="default", profile_sources=[], profile={},
                      audit_log=str(tmp_path / "audit.jsonl"), python=sys.executable,
                      real={"docker": str(program)}, docker_env={"DOCKER_CONTEXT": "default"})
    stub = tmp_path / "docker"
    stub.write_text(render_stub(session, "docker", PROFILES["default"], shutil.which("bash"),
                                BrokerAddress(port, secret, long_wait=60)))
    stub.chmod(0o755)
    return str(stub)


def _run_stub(stub, *args, env=None, timeout=30):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run([stub, *args], capture_output=True, text=True, env={**environ, **(env or {})}, timeout=timeout)


@pytest.mark.parametrize("args, verb", [(["ps"], "allowed"), (["stop", "x"], "stub")])
def test_the_exit_status_goes_back_on_the_connection_the_program_never_holds(tmp_path, args, verb):
    broker = ScriptedBroker(tmp_path)
    try:
        stub = _stub(tmp_path, broker.server.port, broker.server.secret)
        result = _run_stub(stub, *args, env={"FAKE_STATUS": "3"})
        assert result.returncode == 3, result.stderr
        assert broker.ended.wait(5) and broker.exits == [3]
        assert [v for v, _ in broker.requests] == [verb]  # one connection: no separate `done`
        assert broker.requests[0][1][-len(args) - 1:] == ["docker", *args]
        assert (tmp_path / "sockets").read_text().strip() == "0"  # the broker's connection stays with the stub
    finally:
        broker.server.close()


def test_a_refusal_runs_nothing_and_the_fast_path_status_is_1(tmp_path):
    for status, expected in ((1, 1), (2, 1)):
        broker = ScriptedBroker(tmp_path, status=status, err="wingman-run: refused: docker ps\n")
        try:
            result = _run_stub(_stub(tmp_path, broker.server.port, broker.server.secret), "ps")
            assert (result.returncode, result.stderr) == (expected, "wingman-run: refused: docker ps\n")
            assert not (tmp_path / "ran").exists() and broker.exits == []
        finally:
            broker.server.close()


def test_a_broker_that_is_gone_or_mute_refuses_and_nothing_runs(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    gone = _run_stub(_stub(tmp_path, free), "ps")
    assert gone.returncode == 1 and "has no broker any more" in gone.stderr
    with socket.create_server(("127.0.0.1", 0)) as mute:  # takes the connection, never answers
        start = time.monotonic()
        result = _run_stub(_stub(tmp_path, mute.getsockname()[1]), "ps")
        assert 1.5 < time.monotonic() - start < 10
    assert result.returncode == 1 and "has no broker any more" in result.stderr
    assert not (tmp_path / "ran").exists()


def test_ctrl_c_in_the_program_is_reported_then_the_stub_ends_by_it(tmp_path):
    broker = ScriptedBroker(tmp_path)
    try:
        result = _run_stub(_stub(tmp_path, broker.server.port, broker.server.secret), "ps", "interrupt")
        assert result.returncode == -signal.SIGINT, result.stderr
        assert broker.ended.wait(5) and broker.exits == [130]
    finally:
        broker.server.close()


def test_a_stub_killed_while_its_program_runs_leaves_no_status(tmp_path):
    broker = ScriptedBroker(tmp_path)
    try:
        stub = _stub(tmp_path, broker.server.port, broker.server.secret)
        (tmp_path / "real-docker").write_text("#!/bin/bash\nexec sleep 30\n")
        proc = subprocess.Popen([stub, "ps"], start_new_session=True)
        deadline = time.monotonic() + 10
        while not broker.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert broker.ended.wait(5) and broker.exits == [None]
    finally:
        broker.server.close()
