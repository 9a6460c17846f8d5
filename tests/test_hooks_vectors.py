"""The acceptance vectors, and the hooks' own tampering cases, run as `bash -c` and `zsh -c` on the real engine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from fixtures_engine import names

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

# The hooks must also see commands that no text shows up front. Each ends by
# printing the status the refused command left, to show the shell went on as
# after a failure.
HIDDEN = {
    "eval-decoded": "eval \"$(echo L3Vzci9iaW4vZG9ja2VyIHN0b3AgdmljdGlt | base64 -d)\"; echo after $?",
    "sourced-file": "printf '/usr/bin/docker stop victim\\n' > f.sh; source ./f.sh; echo after $?",
    "dot-file": "printf '/usr/bin/docker stop victim\\n' > f.sh; . ./f.sh; echo after $?",
    "subshell": "(eval \"$(printf '/usr/bin/%s stop victim' docker)\"); echo after $?",
    "function": "f() { eval \"$1 stop victim\"; }; f /usr/bin/docker; echo after $?",
    "pipeline": "printf x | eval \"$(printf '/usr/bin/%s stop victim' docker)\"; echo after $?",
    "loop": "for p in /usr/bin/docker; do eval \"$p stop victim\"; done; echo after $?",
}


# Shell syntax and programs that run the command after them; each hides /usr/bin/docker from a plain look.
WRAPPED = [
    ("bash", "coproc /usr/bin/docker stop -t 1 victim; wait"),
    ("bash", "coproc NAME { /usr/bin/docker stop -t 1 victim; }; wait"),
    ("zsh", "coproc /usr/bin/docker stop -t 1 victim; wait"),
    ("zsh", "noglob /usr/bin/docker stop -t 1 victim"),
    ("zsh", "nocorrect /usr/bin/docker stop -t 1 victim"),
    ("bash", "/lib64/ld-linux-x86-64.so.2 /usr/bin/docker stop -t 1 victim"),
    ("zsh", "/lib64/ld-linux-x86-64.so.2 /usr/bin/docker stop -t 1 victim"),
]

# zsh hands a whole pipeline or subshell to its trap, and nothing in it can
# fail alone: refused, the shell ends there with status 1, as ERR_EXIT would.
ENDS_THE_SHELL = {("pipeline", "zsh"), ("subshell", "zsh")}


def _refused(result, home, engine, before, *, exits_nonzero=True):
    if exits_nonzero:
        assert result.returncode != 0, result.stdout + result.stderr
    assert engine.snapshot() == before
    assert "wingman-run: refused:" in result.stderr
    refusals = [e for e in home.events() if e["event"] == "decision" and e["verdict"] in ("deny", "ask")]
    assert refusals, "the audit log holds no refusal"
    return refusals


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("vector", [v for v in HOOK_AND_STUB if v["expect"] == "blocked"], ids=lambda v: v["id"])
def test_blocked_vector(vector, shell, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", shell, "-c", names.apply(vector["command"]))
    refusals = _refused(result, wingman_home, engine, fixtures_intact)
    if vector["layer"] == "hooks":
        assert any(e["layer"] == "hook" for e in refusals), refusals


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("vector", [v for v in HOOK_AND_STUB if v["expect"] == "allowed"], ids=lambda v: v["id"])
def test_allowed_vector(vector, shell, fixtures_intact, wingman_home, engine):
    def outside():
        return subprocess.run([shell, "-c", names.apply(vector["command"])], env=wingman_home.env, cwd=wingman_home.root,
                              capture_output=True, text=True, timeout=60)

    before = outside()
    inside = wingman_home.run("--", shell, "-c", names.apply(vector["command"]))
    after = outside()
    assert inside.returncode == 0, inside.stderr
    # "Up 2 minutes" may tick between runs
    assert names.listing(inside.stdout) in (names.listing(before.stdout), names.listing(after.stdout))
    assert inside.stderr in (before.stderr, after.stderr)
    assert engine.snapshot() == fixtures_intact
    assert not [e for e in wingman_home.events() if e["event"] == "decision" and e["verdict"] != "allow"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_tampering_is_refused(name, shell, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", shell, "-c", names.apply(TAMPERING[name]))
    refusals = _refused(result, wingman_home, engine, fixtures_intact)
    assert any(e["layer"] == "hook" for e in refusals), refusals


@pytest.mark.parametrize("shell,command", WRAPPED, ids=[f"{sh}: {c.split(' /')[0]}" for sh, c in WRAPPED])
def test_wrapping_syntax_and_the_loader_are_refused(shell, command, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", shell, "-c", names.apply(command))
    refusals = _refused(result, wingman_home, engine, fixtures_intact, exits_nonzero=False)
    assert any(e["layer"] == "hook" for e in refusals), refusals


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_commands_no_text_shows_are_refused_as_they_run(name, shell, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", shell, "-c", names.apply(HIDDEN[name]))
    ends_shell = (name, shell) in ENDS_THE_SHELL
    refusals = _refused(result, wingman_home, engine, fixtures_intact, exits_nonzero=ends_shell)
    assert {e["layer"] for e in refusals} == {"hook"}
    if ends_shell:
        assert "after" not in result.stdout and result.returncode == 1
    else:
        # The refused command failed with status 1, and the next one ran as after any failure.
        assert result.stdout.splitlines()[-1] == "after 1", result.stdout + result.stderr
        assert result.returncode == 0


@pytest.mark.parametrize("shell", SHELLS)
def test_a_script_goes_on_after_its_refused_command(shell, tmp_path, fixtures_intact, wingman_home, engine):
    script = tmp_path / "deploy.sh"
    script.write_text(names.apply("echo start\ndocker ps -q >/dev/null\n/usr/bin/docker stop victim\necho after $?\n"
                                  "/usr/bin/docker kill victim && echo killed || echo refused again\n"))
    result = wingman_home.run("--", shell, str(script))
    _refused(result, wingman_home, engine, fixtures_intact, exits_nonzero=False)
    assert result.stdout == "start\nafter 1\nrefused again\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_refused_command_fails_and_the_string_goes_on(shell, fixtures_intact, wingman_home, engine):
    """The refused command is not run, $? is non-zero, and the next one runs as after a failure."""
    command = "docker ps -q >/dev/null; /usr/bin/docker stop victim; echo status $?; env docker kill victim; echo status $?"
    result = wingman_home.run("--", shell, "-c", names.apply(command))
    _refused(result, wingman_home, engine, fixtures_intact, exits_nonzero=False)
    assert result.stdout == "status 1\nstatus 1\n"
    assert result.stderr.count("wingman-run: refused:") == 2


@pytest.mark.parametrize("shell", SHELLS)
def test_a_refused_last_command_is_the_shells_status(shell, fixtures_intact, wingman_home, engine):
    result = wingman_home.run("--", shell, "-c", names.apply("echo first; /usr/bin/docker stop victim"))
    _refused(result, wingman_home, engine, fixtures_intact)
    assert result.stdout == "first\n" and result.returncode == 1
