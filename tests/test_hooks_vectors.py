"""The acceptance vectors, and the hooks' own tampering cases, run as `bash -c` and `zsh -c` on the real engine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

VECTORS = yaml.safe_load((Path(__file__).parent / "data" / "vectors.yaml").read_text())
SHELLS = ("bash", "zsh")
HOOK_AND_STUB = [v for v in VECTORS if v["layer"] in ("hooks", "stub")]

# Each disables or sidesteps the hooks, then reaches docker past the stub.
TAMPERING = {
    "trap-reset": "trap - DEBUG; /usr/bin/docker stop victim",
    "trap-ignore": "trap '' DEBUG; /usr/bin/docker stop victim",
    "extdebug-off": "shopt -u extdebug 2>/dev/null; /usr/bin/docker stop victim",
    "functrace-off": "set +T; (/usr/bin/docker stop victim)",
    "redefine-check": "__wingman_check() { return 0; }; /usr/bin/docker stop victim",
    "unset-check": "unset -f __wingman_check __wingman_ask; /usr/bin/docker stop victim",
    "unset-bash-env": "unset BASH_ENV; bash -c '/usr/bin/docker stop victim'",
    "unset-zdotdir": "unset ZDOTDIR; zsh -c '/usr/bin/docker stop victim'",
    "env-u": "env -u BASH_ENV bash -c '/usr/bin/docker stop victim'",
    "env-i": "env -i /usr/bin/docker stop victim",
    "env-i-bash": "env -i bash -c '/usr/bin/docker stop victim'",
    "bash-norc": "bash --norc --noprofile -c '/usr/bin/docker stop victim'",
    "zsh-f": "zsh -f -c '/usr/bin/docker stop victim'",
    "bash-env-prefix": "BASH_ENV= bash -c '/usr/bin/docker stop victim'",
    "eval-after-trap": "trap - DEBUG; eval \"$(echo L3Vzci9iaW4vZG9ja2VyIHN0b3AgdmljdGlt | base64 -d)\"",
}

# The hooks must also see commands that no text shows up front.
HIDDEN = {
    "eval-decoded": "eval \"$(echo L3Vzci9iaW4vZG9ja2VyIHN0b3AgdmljdGlt | base64 -d)\"; echo after",
    "sourced-file": "printf '/usr/bin/docker stop victim\\n' > f.sh; source ./f.sh; echo after",
    "dot-file": "printf '/usr/bin/docker stop victim\\n' > f.sh; . ./f.sh; echo after",
    "subshell": "(eval \"$(printf '/usr/bin/%s stop victim' docker)\"); echo after",
    "function": "f() { eval \"$1 stop victim\"; }; f /usr/bin/docker; echo after",
    "pipeline": "printf x | eval \"$(printf '/usr/bin/%s stop victim' docker)\"; echo after",
    "loop": "for p in /usr/bin/docker; do eval \"$p stop victim\"; done; echo after",
}


def _refused(result, home, engine, before):
    assert result.returncode != 0, result.stdout + result.stderr
    assert engine.snapshot() == before
    assert "wingman-run: refused:" in result.stderr
    refusals = [e for e in home.events() if e["event"] == "decision" and e["verdict"] in ("deny", "ask")]
    assert refusals, "the audit log holds no refusal"
    return refusals


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("vector", [v for v in HOOK_AND_STUB if v["expect"] == "blocked"], ids=lambda v: v["id"])
def test_blocked_vector(vector, shell, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", shell, "-c", vector["command"])
    refusals = _refused(result, wingman_home, engine, fixtures_intact)
    if vector["layer"] == "hooks":
        assert any(e["layer"] == "hook" for e in refusals), refusals


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("vector", [v for v in HOOK_AND_STUB if v["expect"] == "allowed"], ids=lambda v: v["id"])
def test_allowed_vector(vector, shell, fixtures_intact, wingman_home, engine):
    def outside():
        return subprocess.run([shell, "-c", vector["command"]], env=wingman_home.env, cwd=wingman_home.root,
                              capture_output=True, text=True, timeout=60)

    before = outside()
    inside = wingman_home.run("--", shell, "-c", vector["command"])
    after = outside()
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout in (before.stdout, after.stdout)  # "Up 2 minutes" may tick between runs
    assert inside.stderr in (before.stderr, after.stderr)
    assert engine.snapshot() == fixtures_intact
    assert not [e for e in wingman_home.events() if e["event"] == "decision" and e["verdict"] != "allow"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_tampering_is_refused(name, shell, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", shell, "-c", TAMPERING[name])
    refusals = _refused(result, wingman_home, engine, fixtures_intact)
    assert any(e["layer"] == "hook" for e in refusals), refusals


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_commands_no_text_shows_are_refused_as_they_run(name, shell, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", shell, "-c", HIDDEN[name])
    refusals = _refused(result, wingman_home, engine, fixtures_intact)
    assert [e["layer"] for e in refusals] == ["hook"]
    assert "after" not in result.stdout  # the shell ends at the refusal, as `set -e` would


@pytest.mark.parametrize("shell", SHELLS)
def test_a_script_runs_until_its_refused_command(shell, tmp_path, fixtures_intact, wingman_home, engine):
    script = tmp_path / "deploy.sh"
    script.write_text("echo start\ndocker ps -q >/dev/null\n/usr/bin/docker stop victim\necho after\n")
    result = wingman_home.run("--", shell, str(script))
    _refused(result, wingman_home, engine, fixtures_intact)
    assert result.stdout == "start\n"
    assert result.returncode == 1
