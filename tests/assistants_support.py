"""Shared by the assistant tests: a verdict like the broker's, and a tiny broker speaking its wire format."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from sandbox.assistants import answer
from sandbox.session.layout import BROKER_PORT, BROKER_SECRET


@dataclass
class Verdict:
    allowed: bool
    verdict: str = "allow"
    rule: str = "default"
    reason: str | None = None
    alternative: str | None = None
    decided_by: str | None = None
    note: str | None = None
    message: str = ""


DENIED = Verdict(False, "deny", "git.push.force", "rewrites the remote's history; others lose their commits",
                 "git push --force-with-lease, or a new branch", None, None,
                 "wingman-run: refused: git push --force origin main\n  rule:     git.push.force (deny)\n"
                 "  why:      rewrites the remote's history; others lose their commits\n"
                 "  instead:  git push --force-with-lease, or a new branch\n")
APPROVED = Verdict(True, "ask", "docker.container.stop", "stops a running container", None, "alice", "restart window")
REJECTED = Verdict(False, "ask", "docker.container.stop", "stops a running container", "docker ps", "bob",
                   "not during the demo", "wingman-run: refused: docker stop db\n  rule:     docker.container.stop (ask)\n"
                   "  refused:  rejected in Wingman\n  instead:  docker ps\n")


def fake_session(tmp_path) -> SimpleNamespace:
    directory = tmp_path / "session"
    directory.mkdir(mode=0o700)
    return SimpleNamespace(id="test-session-1", dir=str(directory), profile={})


class TinyBroker:
    """The broker's `assistant` verb over loopback TCP, with a chosen verdict, for testing the hook program."""

    def __init__(self, session_dir, verdict: Verdict, *, hold_seconds: float = 0.0, silent: bool = False):
        self.verdict, self.hold_seconds, self.silent = verdict, hold_seconds, silent
        self.requests: list[list[str]] = []
        self.judged: list[tuple[str, str]] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.secret = "s3cret-for-tests"
        (session_dir / BROKER_PORT).write_text(f"{self.sock.getsockname()[1]}\n")
        (session_dir / BROKER_SECRET).write_text(self.secret + "\n")
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            fields: list[str] = []
            while len(fields) < 3 or len(fields) < 3 + int(fields[2]):
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
                fields = data.decode().split("\0")[:-1]
            self.requests.append(fields)
            if self.silent:
                time.sleep(5)
                return
            secret, verb, _, name, cwd, payload = fields[:6]
            if secret != self.secret or verb != "assistant":
                return  # as the broker does: closed without a word

            def judge(text, where):
                self.judged.append((text, where))
                if self.hold_seconds:
                    conn.sendall(b"hold\0\0")
                    time.sleep(self.hold_seconds)
                return self.verdict

            out, err, status = answer(name, payload, cwd, judge)
            for kind, value in (("out", out), ("err", err)):
                if value:
                    conn.sendall(f"{kind}\0{value}\0".encode())
            conn.sendall(f"exit\0{status}\0".encode())

    def close(self) -> None:
        self.sock.close()


GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]


def project_world(tmp_path: Path, home: Path) -> dict:
    """A home with a directory to lose (~/x) and a git project whose remote a force push would rewrite."""
    (home / "x").mkdir()
    (home / "x" / "precious.txt").write_text("keep me\n")
    project = tmp_path / "project"
    remote = tmp_path / "remote.git"
    subprocess.run([*GIT, "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run([*GIT, "init", "-q", str(project)], check=True)
    (project / "test_demo.py").write_text("def test_stop():\n    assert True\n\ndef test_other():\n    assert True\n")
    for step in (["add", "."], ["commit", "-qm", "first"], ["remote", "add", "origin", str(remote)],
                 ["push", "-q", "origin", "main"], ["commit", "-q", "--allow-empty", "-m", "second"]):
        subprocess.run([*GIT, *step], cwd=project, check=True, env={**os.environ, "HOME": str(home)})
    return {"home": home, "project": project, "remote": remote}


def remote_head(world: dict) -> str:
    return subprocess.run(["git", "--git-dir", str(world["remote"]), "rev-parse", "main"],
                          capture_output=True, text=True, check=True).stdout.strip()


def shell_events_naming(events: list[dict], text: str) -> list[dict]:
    """Audit events of the layers that only see a command once a shell runs it."""
    return [e for e in events if e.get("layer") in ("hook", "stub")
            and text in (e.get("command") or " ".join(e.get("argv") or []))]


# -- the calls every real assistant's test asks for, and what must hold after them -------------

def destructive_calls(target: str) -> dict[str, str]:
    """Command -> the rule that must refuse it."""
    return {f"docker rm -f {target}": "docker.container.rm", "git push --force origin main": "git.push.force",
            "rm -rf ~/x": "fs.rm"}


HARMLESS_CALLS = ["docker ps --format '{{.Names}}'", "git status --short --branch",
                  f"{sys.executable} -m pytest -q -p no:cacheprovider -k stop"]


def state_before(world: dict, target: str) -> dict:
    from fixtures_engine import docker

    return {"remote": remote_head(world),
            "container": docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", target).stdout}


def check_refused_before_any_shell(results: list[dict], destructive: dict[str, str], events: list[dict]) -> None:
    """Each call was refused by the assistant layer, the model read the rule and the alternative, no shell ran it."""
    for said, (command, rule) in zip(results, destructive.items()):
        assert said["is_error"] and "refused" in said["text"] and rule in said["text"], said
        assert "instead:" in said["text"], said["text"]  # the safer alternative reaches the model
        judged = [e for e in events if e.get("layer") == "assistant" and e.get("command") == command]
        assert judged and judged[0]["verdict"] in ("ask", "deny") and judged[0]["rule"].startswith(rule), judged
        assert shell_events_naming(events, command) == [], f"a shell ran {command!r}"


def check_nothing_touched(world: dict, target: str, before: dict) -> None:
    from fixtures_engine import container_state, docker

    assert container_state(target) == "running"
    assert docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", target).stdout == before["container"]
    assert remote_head(world) == before["remote"]
    assert (world["home"] / "x" / "precious.txt").read_text() == "keep me\n"


def check_everyday_calls_ran(results: list[dict], target: str, events: list[dict]) -> None:
    """docker ps, git status and pytest ran, in a shell the session still guards, their output back to the model."""
    ps, status, tests = results
    assert not ps["is_error"] and target in ps["text"], ps
    assert not status["is_error"] and "## main" in status["text"], status
    assert not tests["is_error"] and "1 passed, 1 deselected" in tests["text"], tests
    assert shell_events_naming(events, "git status --short --branch")  # the shell hooks stayed armed underneath


def approval_env(server, tmp_path: Path) -> tuple[list[str], dict]:
    """wingman-run options and environment for a session whose approvals go to the Wingman test server."""
    from wingman_fixture import KEYS

    profile = tmp_path / "fast.yaml"
    profile.write_text("approvals:\n  poll_seconds: 0.2\n  timeout_seconds: 30\n")
    env = {"WINGMAN_API_URL": server.url, "WINGMAN_APPROVAL_REQUEST_KEY": KEYS["request_key"],
           "WINGMAN_APPROVAL_READ_KEY": KEYS["read_key"]}
    return ["--profile", str(profile)], env


# -- the real CLI and the container the model aims at ------------------------------------------

def installed_cli(name: str, title: str) -> Path:
    """The assistant CLI tests/assistants.sh installs; a test that needs it fails (never skips) without it."""
    import pytest
    from model_api import assistant_binary

    binary = assistant_binary(name)
    if not binary.exists():
        pytest.fail(f"{title} is not installed at {binary}: run bash tests/assistants.sh install (CI does)")
    return binary


@contextmanager
def running_target(name: str):
    """A container of this run, running for the length of a test."""
    from fixtures_engine import BASE_IMAGE, LABEL, docker

    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--label", LABEL, "--network", "none", BASE_IMAGE, "sleep", "1d")
    try:
        yield name
    finally:
        docker("rm", "-f", name, check=False)


def check_approved_once(said: dict, target: str, server, events: list[dict], command: str) -> None:
    """An approved ask ran exactly once, on one human decision, and the model saw its output."""
    from fixtures_engine import container_state

    assert not said["is_error"] and target in said["text"], said
    assert container_state(target) == "exited"
    assert len(server.requests()) == 1  # one human decision for the whole call, not one per layer
    runs = [e for e in events if e.get("layer") == "stub" and e.get("event") == "exit"]
    assert len(runs) == 1, runs  # the real docker ran once
    judged = next(e for e in events if e.get("layer") == "assistant" and e.get("command") == command)
    assert judged["approval"]["status"] == "APPROVED" and judged["approval"]["decided_by"] == "alice"


def check_rejected_with_the_note(said: dict, target: str, events: list[dict], command: str) -> None:
    """A rejection reached the model with the rule, who rejected it and their note; nothing ran."""
    from fixtures_engine import container_state

    assert said["is_error"], said
    assert "docker.container.stop" in said["text"] and "not during the demo" in said["text"] and "bob" in said["text"]
    assert container_state(target) == "running"
    assert shell_events_naming(events, command) == []
