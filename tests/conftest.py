"""Shared fixtures: the real Docker engine with its fixtures, and an isolated wingman-run home."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fixtures_engine  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
IN_CI = bool(os.environ.get("CI"))


def _tool(name: str) -> str:
    # The console scripts installed next to the interpreter running the tests.
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e .[test]"
    return found


WINGMAN_RUN = _tool("wingman-run")
WINGMAN_SANDBOX = _tool("wingman-sandbox")


@pytest.fixture(scope="session")
def engine():
    """The real engine with this run's fixtures. In CI a missing engine fails, never skips.
    At the end of the session, pass or fail, the run removes what it made and nothing else."""
    if not fixtures_engine.engine_available():
        pytest.fail("the Docker engine does not answer: run tests/engine.sh start (CI does)")
    try:
        fixtures_engine.ensure_fixtures()
        yield fixtures_engine
    finally:
        fixtures_engine.remove_own_objects()


@pytest.fixture()
def fixtures_intact(engine):
    """Fixtures in their expected state before the test; yields a snapshot to compare after."""
    engine.ensure_fixtures()
    return engine.snapshot()


@pytest.fixture()
def wingman_home(tmp_path, monkeypatch):
    """An isolated audit log, runtime and config directory, and a clean environment.

    Under /tmp rather than pytest's deep tmp_path: a session's sockets live in its
    runtime directory, and a Unix socket path must stay under about 100 bytes."""
    home = Path(tempfile.mkdtemp(prefix="wm-", dir="/tmp"))
    (home / "config").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCKER_", "WINGMAN_")) and k not in ("BASH_ENV", "ZDOTDIR", "ENV")}
    env.update(
        WINGMAN_AUDIT_LOG=str(home / "audit.jsonl"),
        WINGMAN_RUNTIME_DIR=str(home / "run"),
        WINGMAN_CONFIG_DIR=str(home / "config"),
    )
    yield Home(home, env)
    subprocess.run(["chmod", "-R", "u+w", str(home)], capture_output=True)  # sessions leave read-only dirs
    shutil.rmtree(home, ignore_errors=True)


class Home:
    def __init__(self, root: Path, env: dict):
        self.root, self.env = root, env

    @property
    def audit_log(self) -> Path:
        return Path(self.env["WINGMAN_AUDIT_LOG"])

    def events(self) -> list[dict]:
        if not self.audit_log.exists():
            return []
        return [json.loads(line) for line in self.audit_log.read_text().splitlines()]

    def run(self, *args: str, cwd=None, input=None, env=None, timeout=60) -> subprocess.CompletedProcess:
        """wingman-run ARGS, without a terminal."""
        return subprocess.run([WINGMAN_RUN, *args], cwd=cwd or self.root, input=input, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)

    def sandbox(self, *args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
        return subprocess.run([WINGMAN_SANDBOX, *args], cwd=cwd or self.root, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=60)
