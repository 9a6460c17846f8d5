"""The monitor end to end: wingman-run sessions on the real engine, bypasses made with the real binary outside them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from conftest import WINGMAN_RUN
from fixtures_engine import BASE_IMAGE, DOCKER, LABEL, docker, names
from wingman_fixture import KEYS, wingman_server  # noqa: F401

REPORT_SECONDS = 2.0


class Session:
    """wingman-run holding a shell open, its stderr in a file we can read while it runs."""

    def __init__(self, env: dict, cwd: Path):
        self.stderr_path = Path(tempfile.mkstemp(prefix="wm-mon-err-")[1])
        self.process = subprocess.Popen([WINGMAN_RUN, "--", "sh", "-c", 'env -0; printf "\\n"; exec sleep 600'],
                                        env=env, cwd=cwd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                        stderr=self.stderr_path.open("w"))
        raw = b""
        while not raw.endswith(b"\0\n"):
            chunk = self.process.stdout.read1(65536)
            assert chunk, f"the session did not start: {self.stderr()}"
            raw += chunk
        self.env = dict(item.split("=", 1) for item in raw[:-2].decode().split("\0") if "=" in item)
        self.id = self.env["WINGMAN_SESSION"]
        time.sleep(0.5)  # the monitor's stream opens in the launcher beside the command

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=60)

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stdout.close()


def outside(*args: str) -> subprocess.CompletedProcess:
    return docker(*args, check=False)


def container(role: str, *command: str, rm: bool = False) -> str:
    name = names.unique(role)
    outside("rm", "-f", name)
    outside("run", "-d", *(["--rm"] if rm else []), "--name", name, "--label", LABEL, "--network", "none",
            BASE_IMAGE, *(command or ("sleep", "1d")))
    return name


def monitor_events(home, kind: str) -> list[dict]:
    return [e for e in home.events() if e.get("event") == kind]


def wait_for(predicate, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    return predicate()


def test_bypass_is_reported_fast_approved_and_engine_events_are_not(wingman_home, engine, wingman_server, tmp_path):
    bypassed = container("mon-bypass")
    approved = container("mon-approved")
    env = {**wingman_home.env, "WINGMAN_API_URL": wingman_server.url,
           "WINGMAN_APPROVAL_REQUEST_KEY": KEYS["request_key"], "WINGMAN_APPROVAL_READ_KEY": KEYS["read_key"]}
    session = Session(env, tmp_path)
    try:
        # An approved stop inside the session: covered by its decision.
        wingman_server.decide_when_pending("approve", decided_by="mark", note="ok")
        result = session.run("docker", "stop", "-t", "0", approved)
        assert result.returncode == 0, result.stderr
        # Engine-made events on objects the session knows: a process that exits, a --rm container cleaned up.
        exits = container("mon-exits", "sh", "-c", "sleep 1; exit 3")
        gone = container("mon-rm", "sleep", "1", rm=True)
        assert session.run("docker", "inspect", bypassed, exits, gone).returncode == 0
        time.sleep(2.0)  # both have ended by now
        # The bypass: the real binary, outside any session, against an object the session knows (inspected above).
        started = time.monotonic()
        assert outside("stop", "-t", "0", bypassed).returncode == 0
        stopped = time.monotonic()
        found = wait_for(lambda: [e for e in monitor_events(wingman_home, "unapproved") if e["object"] == bypassed],
                         REPORT_SECONDS + 1)
        reported = time.monotonic()
        assert found, f"no report of the bypass: {session.stderr()}"
        assert reported - stopped <= REPORT_SECONDS, f"reported {reported - started:.2f} s after the stop began"
        assert len(found) == 1 and found[0]["session"] == session.id and found[0]["action"] == "container kill"
        time.sleep(1.0)  # anything wrongly reported about the other containers would be in by now
        claims = wait_for(lambda: _claims(wingman_server), REPORT_SECONDS)
    finally:
        session.end()
    reported_objects = {e["object"] for e in monitor_events(wingman_home, "unapproved") if e["session"] == session.id}
    assert bypassed in reported_objects
    for quiet in (approved, exits, gone):
        assert quiet not in reported_objects, f"{quiet} was reported: {session.stderr()}"
    line = [ln for ln in session.stderr().splitlines() if "UNAPPROVED" in ln and bypassed in ln]
    assert len(line) == 1, session.stderr()
    ours = [c for c in claims if c["worker_id"] == session.id]
    assert len(ours) >= 1 and bypassed in ours[0]["claim"] and "container kill" in ours[0]["claim"]
    assert all(approved not in c["claim"] for c in ours)


def _claims(server) -> list[dict]:
    with urllib.request.urlopen(server.url + "/_test/claims", timeout=5) as answer:
        return json.loads(answer.read())["claims"]


class SocketProxy:
    """A Unix socket that forwards to the real daemon, and can go away and come back like a restarted daemon."""

    def __init__(self, path: str, upstream: str = "/var/run/docker.sock"):
        self.path, self.upstream = path, upstream
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []

    def start(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(self.path)
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked in the other thread
        except OSError:
            pass
        self.listener.close()
        for sock in self.open:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.open = []

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.upstream)
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def test_a_daemon_that_goes_away_gives_one_gap_and_what_happened_meanwhile_is_still_judged(wingman_home, engine,
                                                                                           tmp_path):
    proxy = SocketProxy(tempfile.mktemp(prefix="wm-proxy-", suffix=".sock", dir="/tmp"))
    proxy.start()
    target = container("mon-gap")
    session = Session({**wingman_home.env, "DOCKER_HOST": f"unix://{proxy.path}"}, tmp_path)
    try:
        assert session.run("docker", "inspect", target).returncode == 0  # the session knows it
        proxy.stop()
        went = time.time()
        time.sleep(0.5)
        assert outside("stop", "-t", "0", target).returncode == 0  # while the monitor cannot watch
        time.sleep(1.0)
        proxy.start()
        back = time.time()
        gaps = wait_for(lambda: monitor_events(wingman_home, "unwatched"), 3.0)
        assert gaps, session.stderr()
        late = wait_for(lambda: [e for e in monitor_events(wingman_home, "unapproved") if e["object"] == target], 3.0)
    finally:
        session.end()
        proxy.stop()
        os.unlink(proxy.path)
    gaps = monitor_events(wingman_home, "unwatched")
    assert len(gaps) == 1, gaps
    gap = gaps[0]
    assert gap["session"] == session.id and gap["message"].startswith("not watched from ")
    start, end = (_epoch(gap["from"]), _epoch(gap["to"]))
    assert went - 1.0 <= start <= went + 0.5 and back - 0.2 <= end <= back + 2.0, (gap, went, back)
    assert f"was not watched from {gap['from']} to {gap['to']}" in session.stderr()
    assert late, "the stop made while the stream was down was not judged once it came back"


def _epoch(stamp: str) -> float:
    from sandbox.monitor.decisions import parse_time

    return parse_time(stamp)


def test_objects_the_session_never_named_are_left_to_the_host_monitor(wingman_home, engine, tmp_path):
    stranger = container("mon-stranger")
    session = Session(wingman_home.env, tmp_path)
    try:
        since = time.time()
        assert outside("stop", "-t", "0", stranger).returncode == 0
        time.sleep(1.0)
    finally:
        session.end()
    assert not [e for e in monitor_events(wingman_home, "unapproved") if e["object"] == stranger]
    # The host-wide watcher reports it, and exits 1 for the window.
    host = wingman_home.sandbox("monitor", "--since", f"{since - 1:.3f}", "--until", f"{time.time():.3f}", "--json",
                                "--audit", str(wingman_home.audit_log))
    assert host.returncode == 1, host.stderr
    reported = [json.loads(line) for line in host.stdout.splitlines()]
    assert [e["action"] for e in reported if e["object"] == stranger] == ["container kill"]
