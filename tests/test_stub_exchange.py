"""The stub's exchange with the broker, against a broker whose answers the test chooses.

Every test runs against both stubs a session can write: the compiled one and
the bash one (written where no C compiler is found).

Allowed outright (`exec` in the answer), the program takes the stub's place and
holds the connection until it ends; approved, it runs as the stub's child and
its exit status goes back on the connection. Refused, gone or mute: nothing runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from sandbox.broker.address import BrokerAddress
from sandbox.broker.server import BrokerServer
from sandbox.session.record import Session
from sandbox.stub import compiled
from sandbox.stub.generate import render_stub, write_compiled_stub

# The program the stub runs: notes that it ran, its pid, the sockets it holds; ends as told.
FAKE_PROGRAM = """#!/bin/bash
here=$(dirname "$0")
echo ran >"$here/ran"
echo $$ >"$here/pid"
for fd in /proc/$$/fd/*; do readlink "$fd"; done | grep -c '^socket:' >"$here/sockets"
sleep "${FAKE_SECONDS:-0}"
if [ -n "${FAKE_PRINT:-}" ]; then printf "$FAKE_PRINT"; fi
case " $* " in
  *" interrupt "*) kill -INT $$ ;;
  *) exit "${FAKE_STATUS:-0}" ;;
esac
"""


class ScriptedBroker:
    """A BrokerServer whose handler answers every request as the test says, and keeps what it got.

    exec_: answer an allowed call with `exec` (allowed outright) rather than as an approved one.
    """

    def __init__(self, directory, status=0, err="", exec_=False):
        self.status, self.err, self.exec_ = status, err, exec_
        self.requests: list[tuple[str, list[str]]] = []
        self.exits: list[int | None] = []
        self.ended = threading.Event()
        self.ended_at = 0.0
        self.server = BrokerServer(directory, self.handle)
        self.server.start()

    def handle(self, verb, args, channel):
        self.requests.append((verb, args))
        if self.err:
            channel.send("err", self.err)
        if self.status == 0:
            if self.exec_:
                channel.send("exec")
            channel.on_exit = self._exit
        return self.status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.close()

    def _exit(self, status):
        self.exits.append(status)
        self.ended_at = time.monotonic()
        self.ended.set()


@pytest.fixture(scope="module")
def compiled_stub(tmp_path_factory):
    built = compiled.build(tmp_path_factory.mktemp("stub-cache"))
    assert built is not None, "the stub did not compile: is a C compiler installed (tests/run-all.sh installs gcc)?"
    return built


@pytest.fixture(params=["compiled", "bash"])
def make_stub(request, tmp_path):
    """make_stub(port, secret) -> the path of a docker stub of that kind, its real program FAKE_PROGRAM."""
    binary = request.getfixturevalue("compiled_stub") if request.param == "compiled" else None

    def make(port: int, secret: str = "s" * 32) -> str:
        program = tmp_path / "real-docker"
        program.write_text(FAKE_PROGRAM)
        program.chmod(0o755)
        session = Session(id="test-session", dir=str(tmp_path), created=0.0, cwd=str(tmp_path),
                          project_dir=str(tmp_path), assistant="bash", host="test", profile_name="default",
                          profile_sources=[], profile={}, audit_log=str(tmp_path / "audit.jsonl"),
                          python=sys.executable, real={"docker": str(program)},
                          docker_env={"DOCKER_CONTEXT": "default"})
        broker = BrokerAddress(port, secret, long_wait=60)
        if binary is not None:
            return str(write_compiled_stub(tmp_path, binary, session, "docker", broker))
        stub = tmp_path / "docker"
        stub.write_text(render_stub(session, "docker", shutil.which("bash"), broker))
        stub.chmod(0o755)
        return str(stub)

    return make


def _run_stub(stub, *args, env=None, timeout=30):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run([stub, *args], capture_output=True, text=True, env={**environ, **(env or {})}, timeout=timeout)


def test_the_stub_asks_about_every_call_with_its_argv_pid_and_daemon_variables(make_stub, tmp_path):
    with ScriptedBroker(tmp_path, exec_=True) as broker:
        stub = make_stub(broker.server.port, broker.server.secret)
        result = _run_stub(stub, "ps", "-a", "it's", env={"DOCKER_HOST": "tcp://elsewhere:2375"})
        assert result.returncode == 0, result.stderr
        verb, args = broker.requests[0]
        pid, cwd, env_text, argv = args[0], args[1], args[2], args[3:]
        assert verb == "stub" and argv == ["docker", "ps", "-a", "it's"]
        assert env_text == "DOCKER_HOST=tcp://elsewhere:2375\n" and cwd == os.getcwd()
        assert pid == (tmp_path / "pid").read_text().strip()  # the program is the stub's own process


def test_an_allowed_call_becomes_the_program_and_holds_the_connection_until_it_ends(make_stub, tmp_path):
    with ScriptedBroker(tmp_path, exec_=True) as broker:
        stub = make_stub(broker.server.port, broker.server.secret)
        started = time.monotonic()
        result = _run_stub(stub, "ps", env={"FAKE_STATUS": "3", "FAKE_SECONDS": "0.5"})
        assert result.returncode == 3, result.stderr  # the program's own status, straight to the caller
        assert broker.ended.wait(5) and broker.exits == [None]  # the end, without a status
        assert broker.ended_at - started >= 0.5  # seen when the program ended, not when it started
        assert [v for v, _ in broker.requests] == ["stub"]
        assert (tmp_path / "sockets").read_text().strip() == "1"


def test_an_approved_call_runs_as_a_child_and_its_status_goes_back_on_the_connection(make_stub, tmp_path):
    with ScriptedBroker(tmp_path) as broker:
        stub = make_stub(broker.server.port, broker.server.secret)
        result = _run_stub(stub, "stop", "x", env={"FAKE_STATUS": "3"})
        assert result.returncode == 3, result.stderr
        assert broker.ended.wait(5) and broker.exits == [3]
        assert [v for v, _ in broker.requests] == ["stub"]  # one connection: no separate `done`
        assert (tmp_path / "sockets").read_text().strip() == "0"  # the broker's connection stays with the stub
        assert (tmp_path / "pid").read_text().strip() != broker.requests[0][1][0]


@pytest.mark.parametrize("status", [1, 2])
@pytest.mark.parametrize("exec_", [False, True], ids=["approved", "outright"])
def test_a_refusal_runs_nothing_and_its_status_is_the_brokers(make_stub, tmp_path, status, exec_):
    with ScriptedBroker(tmp_path, status=status, err="wingman-run: refused: docker ps\n", exec_=exec_) as broker:
        result = _run_stub(make_stub(broker.server.port, broker.server.secret), "ps")
        assert (result.returncode, result.stderr) == (status, "wingman-run: refused: docker ps\n")
        assert not (tmp_path / "ran").exists() and broker.exits == []


def test_a_broker_that_is_gone_or_mute_refuses_and_nothing_runs(make_stub, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    gone = _run_stub(make_stub(free), "ps")
    assert gone.returncode == 1 and "has no broker any more" in gone.stderr
    with socket.create_server(("127.0.0.1", 0)) as mute:  # takes the connection, never answers
        start = time.monotonic()
        result = _run_stub(make_stub(mute.getsockname()[1]), "ps")
        assert 1.5 < time.monotonic() - start < 10
    assert result.returncode == 1 and "has no broker any more" in result.stderr
    assert not (tmp_path / "ran").exists()


def test_ctrl_c_in_an_approved_program_is_reported_then_the_stub_ends_by_it(make_stub, tmp_path):
    with ScriptedBroker(tmp_path) as broker:
        result = _run_stub(make_stub(broker.server.port, broker.server.secret), "stop", "interrupt")
        assert result.returncode == -signal.SIGINT, result.stderr
        assert broker.ended.wait(5) and broker.exits == [130]


def test_ctrl_c_in_an_allowed_program_ends_it_as_without_a_stub(make_stub, tmp_path):
    with ScriptedBroker(tmp_path, exec_=True) as broker:
        result = _run_stub(make_stub(broker.server.port, broker.server.secret), "ps", "interrupt")
        assert result.returncode == -signal.SIGINT, result.stderr
        assert broker.ended.wait(5) and broker.exits == [None]


def test_ctrl_c_while_a_human_decides_refuses_and_hangs_up(make_stub, tmp_path):
    """The broker holds the call (an approval pending); Ctrl-C cancels it: nothing runs, and the
    broker sees the connection close (it records the refusal)."""
    with socket.create_server(("127.0.0.1", 0)) as holding:
        stub = make_stub(holding.getsockname()[1])
        proc = subprocess.Popen([stub, "stop", "x"], stderr=subprocess.PIPE, text=True,
                                env={k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")})
        holding.settimeout(10)
        connection, _ = holding.accept()
        with connection:
            connection.settimeout(10)
            received = b""
            while received.count(b"\0") < 9:  # secret stub N pid cwd env program stop x
                received += connection.recv(4096)
            connection.sendall(b"hold\0\0")
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=10)
            assert connection.recv(4096) == b""  # hung up, without a status
    assert proc.returncode == 1
    assert "cancelled (Ctrl-C) while waiting for a decision; nothing ran" in err
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("exec_", [False, True], ids=["approved", "outright"])
def test_a_call_killed_while_its_program_runs_ends_without_a_status(make_stub, tmp_path, exec_):
    with ScriptedBroker(tmp_path, exec_=exec_) as broker:
        stub = make_stub(broker.server.port, broker.server.secret)
        (tmp_path / "real-docker").write_text("#!/bin/bash\nexec sleep 30\n")
        proc = subprocess.Popen([stub, "ps"], start_new_session=True)
        deadline = time.monotonic() + 10
        while not broker.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert broker.ended.wait(5) and broker.exits == [None]


@pytest.mark.parametrize("status", ["\u00b2", "9" * 5000, "3x", ""])
def test_a_status_the_broker_cannot_read_still_ends_the_call(tmp_path, status):
    """str.isdigit() takes "²"; int() does not. Whatever comes back, the call ends (its grants with it)."""
    with ScriptedBroker(tmp_path) as broker:
        with socket.create_connection(("127.0.0.1", broker.server.port)) as client:
            fields = [broker.server.secret, "stub", "4", "1", "/", "", "docker"]
            client.sendall(b"".join(f.encode() + b"\0" for f in fields))
            answer = b""
            while not answer.endswith(b"exit\x000\x00"):
                answer += client.recv(4096)
            client.sendall(status.encode() + b"\0")
        assert broker.ended.wait(5) and broker.exits == [None]


class RawBroker:
    """A listener whose every connection gets exactly the bytes (and pauses) a test lists.

    answer: byte strings to send, or floats to sleep between them. The request and, after
    an approval, the returned status are kept.
    """

    def __init__(self, answer):
        self.answer, self.request, self.after = answer, b"", b""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        connection, _ = self.listener.accept()
        with connection:
            connection.settimeout(10)
            while self.request.count(b"\0") < 7 or not self.request.endswith(b"\0"):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                self.request += chunk
            try:
                for part in self.answer:
                    if isinstance(part, float):
                        time.sleep(part)
                    else:
                        connection.sendall(part)
                connection.shutdown(socket.SHUT_WR)
                while chunk := connection.recv(4096):
                    self.after += chunk
            except OSError:
                pass
        self.done.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.listener.close()


def test_an_answer_in_pieces_is_read_whole(make_stub, tmp_path):
    """A pair's kind and value may come in separate reads: an approval split so still runs."""
    with RawBroker([b"err\0appro", 0.2, b"ved\n\0exit\0", 0.2, b"0\0"]) as broker:
        result = _run_stub(make_stub(broker.port), "stop", "x", env={"FAKE_STATUS": "3"})
        assert (result.returncode, result.stderr) == (3, "approved\n")
        assert broker.done.wait(5) and broker.after == b"3\0"


def test_a_long_refusal_reaches_the_caller_whole(make_stub, tmp_path):
    text = "wingman-run: refused: docker stop " + "x" * 100_000 + "\n"
    with RawBroker([b"err\0" + text.encode() + b"\0exit\0" + b"1\0"]) as broker:
        result = _run_stub(make_stub(broker.port), "stop", "x" * 100_000)
        assert (result.returncode, result.stderr) == (1, text)
        assert not (tmp_path / "ran").exists()


def test_a_broker_that_trickles_its_answer_is_mute(make_stub, tmp_path):
    """The first answer's 2 s are for the whole field, not for each byte."""
    with RawBroker([part for letter in b"exit" for part in (bytes([letter]), 0.9)] + [b"\0" + b"0\0"]) as broker:
        start = time.monotonic()
        result = _run_stub(make_stub(broker.port), "ps")
        assert time.monotonic() - start < 3.2
        assert result.returncode == 1 and "has no broker any more" in result.stderr
        assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("status", [b"+0", b"00", b" 0", b"-0", b"256", b""])
def test_a_status_that_is_not_one_refuses_and_runs_nothing(make_stub, tmp_path, status):
    with RawBroker([b"exit\0" + status + b"\0"]) as broker:
        result = _run_stub(make_stub(broker.port), "ps")
        assert result.returncode == 1 and "has no broker any more" in result.stderr
        assert not (tmp_path / "ran").exists()


def test_a_caller_with_its_outputs_closed_does_not_hand_the_program_the_connection(make_stub, tmp_path):
    """With fds 1 and 2 closed the stub's connection must not take their number: the program's
    output would go to the broker (and be read as an exit status)."""
    with ScriptedBroker(tmp_path, exec_=True) as broker:
        stub = make_stub(broker.server.port, broker.server.secret)
        subprocess.run(["bash", "-c", f"exec 1>&- 2>&-; exec {stub} ps"], timeout=30,
                       env={**os.environ, "FAKE_PRINT": "7\\0"})
        assert broker.ended.wait(5) and broker.exits == [None]
        assert (tmp_path / "ran").exists()


def test_an_approved_call_from_a_caller_that_ignores_sigchld_keeps_its_status(make_stub, tmp_path):
    with ScriptedBroker(tmp_path) as broker:
        stub = make_stub(broker.server.port, broker.server.secret)
        result = subprocess.run([stub, "stop", "x"], capture_output=True, text=True, timeout=30,
                                env={**os.environ, "FAKE_STATUS": "3"},
                                preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        assert result.returncode == 3, result.stderr
        assert broker.ended.wait(5) and broker.exits == [3]

