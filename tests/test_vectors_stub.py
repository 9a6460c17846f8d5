"""The acceptance vectors that the docker stub must decide, run end to end on the real engine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from fixtures_engine import names

VECTORS = yaml.safe_load((Path(__file__).parent / "data" / "vectors.yaml").read_text())
STUB_VECTORS = [v for v in VECTORS if v["layer"] == "stub"]


def _bash_outside(command: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("vector", [v for v in STUB_VECTORS if v["expect"] == "blocked"], ids=lambda v: v["id"])
def test_blocked_vector_leaves_fixtures_alone(vector, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", "bash", "-c", names.apply(vector["command"]))
    assert result.returncode != 0, result.stdout + result.stderr
    assert engine.snapshot() == fixtures_intact
    assert "wingman-run: refused:" in result.stderr
    refusals = [e for e in wingman_home.events() if e["event"] == "decision" and e["verdict"] in ("deny", "ask")]
    assert refusals, "the audit log holds no refusal"
    assert all(e["exit"] == 1 for e in refusals)


@pytest.mark.parametrize("vector", [v for v in STUB_VECTORS if v["expect"] == "allowed"], ids=lambda v: v["id"])
def test_allowed_vector_runs_untouched(vector, fixtures_intact, wingman_home, engine):
    before = _bash_outside(names.apply(vector["command"]), wingman_home.env)
    inside = wingman_home.run("--", "bash", "-c", names.apply(vector["command"]))
    after = _bash_outside(names.apply(vector["command"]), wingman_home.env)
    assert inside.returncode == 0, inside.stderr
    # "Up 2 minutes" may tick between runs: the output must equal one of the runs around it.
    assert names.listing(inside.stdout) in (names.listing(before.stdout), names.listing(after.stdout))
    assert engine.snapshot() == fixtures_intact
    decisions = [e for e in wingman_home.events() if e["event"] == "decision"]
    assert decisions and all(e["verdict"] == "allow" for e in decisions)
    # Every docker call the stub let run has its end recorded (allowed outright: without a status, which
    # went to the caller); the hook may log the string it let through too.
    stub_decisions = [e["id"] for e in decisions if e["layer"] == "stub"]
    exits = {e["id"]: e["exit"] for e in wingman_home.events() if e["event"] == "exit"}
    assert stub_decisions and all(i in exits and exits[i] is None for i in stub_decisions)
