"""Pytest fixtures that run tests/wingman_server.py as a real process on 127.0.0.1.

    from wingman_fixture import wingman_server  # noqa: F401  (the fixture)

    def test_x(wingman_server):
        settings = wingman_server.settings(timeout_seconds=5)
        wingman_server.decide_when_pending("approve", decided_by="mark", note="go")
        ...

`wingman_server` has role-separated keys (request, read, decide); use
`wingman_server_factory(legacy_key=..., request_key=None, ...)` for other setups.
The keys are known test values (KEYS) so tests can check they never leak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sandbox.approvals.config import WingmanSettings  # noqa: E402

SERVER = HERE / "wingman_server.py"
KEYS = {
    "request_key": "req-K3y-7f1c2a9e5b",
    "read_key": "read-K3y-4d8e0b6a1c",
    "decide_key": "decide-K3y-9a2f7c3e8d",
}
LEGACY_KEY = "legacy-K3y-5e1b9d0c7a"


class WingmanServer:
    def __init__(self, process: subprocess.Popen, url: str, keys: dict):
        self.process = process
        self.url = url
        self.keys = keys

    # -- settings a client would load --------------------------------------------------------

    def settings(self, **overrides) -> WingmanSettings:
        values = dict(url=self.url, request_key=self.keys.get("request_key"), read_key=self.keys.get("read_key"),
                      legacy_key=self.keys.get("legacy_key"), poll_seconds=0.05, timeout_seconds=10)
        values.update(overrides)
        return WingmanSettings(**values)

    # -- steering ----------------------------------------------------------------------------

    def control(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as response:
            return json.loads(response.read())

    def decide(self, request_id: str, action: str, decided_by: str | None = None, note: str | None = None) -> dict:
        """Decide through the real API path, with the decide key, as a human would with curl."""
        headers = {"Content-Type": "application/json"}
        if self.keys.get("decide_key"):
            headers["X-Wingman-Approval-Decide-Key"] = self.keys["decide_key"]
        elif self.keys.get("legacy_key"):
            headers["X-Wingman-Approval-Key"] = self.keys["legacy_key"]
        data = json.dumps({"decided_by": decided_by, "note": note}).encode()
        req = urllib.request.Request(f"{self.url}/approvals/{request_id}/{action}", data=data, method="POST",
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=5) as response:
            return json.loads(response.read())

    def approve(self, request_id: str, decided_by: str | None = "tester", note: str | None = None) -> dict:
        return self.decide(request_id, "approve", decided_by, note)

    def reject(self, request_id: str, decided_by: str | None = "tester", note: str | None = None) -> dict:
        return self.decide(request_id, "reject", decided_by, note)

    def expire(self, request_id: str) -> dict:
        return self.control(f"/_test/expire/{request_id}")

    def quarantine(self, worker_id: str, reason: str = "too many rejections") -> dict:
        return self.control("/_test/quarantine", {"worker_id": worker_id, "reason": reason})

    def misbehave(self, mode: str = "normal", scope: str = "all", delay: float = 0.0,
                  auto_approve: bool = False) -> dict:
        """mode: normal, error500, garbage, wrong_json, unauthorized; scope: all, request, poll."""
        return self.control("/_test/mode", {"mode": mode, "scope": scope, "delay": delay,
                                            "auto_approve": auto_approve})

    def requests(self) -> list[dict]:
        with urllib.request.urlopen(self.url + "/_test/requests", timeout=5) as response:
            return json.loads(response.read())["requests"]

    def seen_headers(self) -> list[dict]:
        with urllib.request.urlopen(self.url + "/_test/headers", timeout=5) as response:
            return json.loads(response.read())["headers"]

    def wait_for_pending(self, timeout: float = 10.0, count: int = 1) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [r for r in self.requests() if r["status"] == "PENDING"]
            if len(pending) >= count:
                return pending
            time.sleep(0.02)
        raise TimeoutError("no pending request reached the test server")

    def decide_when_pending(self, action: str, decided_by: str | None = "tester", note: str | None = None,
                            timeout: float = 10.0) -> threading.Thread:
        """In the background: wait for the first pending request, then approve/reject/expire it."""
        def run():
            request_id = self.wait_for_pending(timeout)[0]["request_id"]
            if action == "expire":
                self.expire(request_id)
            else:
                self.decide(request_id, action, decided_by, note)
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        log = getattr(self, "log", None)
        if log is not None:
            log.close()


def start_wingman_server(*, request_key: str | None = KEYS["request_key"], read_key: str | None = KEYS["read_key"],
                         decide_key: str | None = KEYS["decide_key"], legacy_key: str | None = None) -> WingmanServer:
    keys = {"request_key": request_key, "read_key": read_key, "decide_key": decide_key, "legacy_key": legacy_key}
    with tempfile.TemporaryDirectory(prefix="wingman-test-") as tmp:
        port_file = os.path.join(tmp, "url")
        cmd = [sys.executable, str(SERVER), "--port-file", port_file]
        for name, value in keys.items():
            if value:
                cmd += [f"--{name.replace('_key', '')}-key", value]
        log = tempfile.TemporaryFile()  # a file, not a pipe: nobody reads it while tests run, so it must not fill up
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError("test Wingman server died: " + log.read().decode(errors="replace"))
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("test Wingman server did not start within 10 s")
            time.sleep(0.02)
        url = Path(port_file).read_text().strip()
    server = WingmanServer(process, url, keys)
    server.log = log
    return server


@pytest.fixture
def wingman_server():
    server = start_wingman_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def wingman_server_factory():
    started: list[WingmanServer] = []

    def make(**keys) -> WingmanServer:
        server = start_wingman_server(**keys)
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()
