"""Which path a shell takes through the hooks: none, the broker, or a refusal when the broker is gone."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures_engine import names
from sandbox.session.child import ChildSession

BENCH = Path(__file__).resolve().parent.parent / "bench" / "hooks_bench.py"


@pytest.fixture()
def session_shells(wingman_home, tmp_path):
    """A live session (its broker answering), and its shells started beside it with the session's environment."""
    session = Shells(wingman_home.env, tmp_path)
    yield session
    session.end()


class Shells(ChildSession):
    def __init__(self, env, cwd: Path):
        super().__init__(env, cwd)
        self.cwd = cwd

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return super().run(argv, cwd=self.cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_no_broker_request_for_text_that_names_no_guarded_program(shell, session_shells):
    quiet = [
        "echo hello; ls / >/dev/null; x=$(printf firm-app); echo $x",
        "for i in 1 2 3; do : $((i * 2)); done; echo ok",
        "make -j4 all 2>/dev/null || echo format the dockerfile later",
    ]
    for text in quiet:
        result = session_shells.run(shell, "-c", text)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    assert session_shells.broker_requests() == {}
    # A guarded name in comments only. bash reads a string this long, and a script this short,
    # with the regexes, which skip comment lines; zsh's glob cannot tell comments apart, and zsh
    # hands every script file to the broker. Then nothing is checked as it runs.
    result = session_shells.run(shell, "-c", "# docker rm -f victim, in a comment only\necho done")
    script = session_shells.cwd / "build.sh"
    script.write_text("#!/usr/bin/env bash\n# runs no docker: docker stop would be refused\necho building\n")
    assert (result.stdout, session_shells.run(shell, str(script)).stdout) == ("done\n", "building\n")
    assert session_shells.broker_requests() == ({} if shell == "bash" else {"hook": 2})


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_text_naming_a_guarded_program_goes_to_the_broker_once(shell, session_shells, engine):
    result = session_shells.run(shell, "-c", "docker ps -q >/dev/null && echo listed")
    assert result.stdout == "listed\n", result.stderr
    # The whole string once; the stub asks about the docker call, and its end is recorded.
    assert session_shells.broker_requests() == {"hook": 1, "stub": 1, "done": 1}


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_broker_that_is_gone_refuses(shell, session_shells, fixtures_intact, engine):
    # A process the session left running keeps its directory (stubs, hooks) in place...
    leftover = subprocess.Popen(["sleep", "120"], env=session_shells.env)
    try:
        session_shells.end()  # ...after the launcher, and its broker, are gone
        assert (session_shells.dir / "hooks").is_dir()
        _check_refused_without_broker(shell, session_shells, engine, fixtures_intact)
    finally:
        leftover.kill()
        leftover.wait()


def _check_refused_without_broker(shell, session_shells, engine, fixtures_intact):
    result = session_shells.run(shell, "-c", names.apply("/usr/bin/docker stop victim; echo after"))
    assert result.returncode == 1
    assert "after" not in result.stdout
    assert names.apply("wingman-run: refused: /usr/bin/docker stop victim") in result.stderr
    assert f"the session {session_shells.env['WINGMAN_SESSION']} has no broker any more" in result.stderr
    assert engine.snapshot() == fixtures_intact
    # A command that needs no verdict still runs.
    assert session_shells.run(shell, "-c", "echo plain").stdout == "plain\n"


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_broker_that_does_not_answer_refuses_within_seconds(shell, session_shells, fixtures_intact, engine):
    os.kill(session_shells.process.pid, signal.SIGSTOP)  # alive but mute
    try:
        started = time.monotonic()
        result = session_shells.run(shell, "-c", names.apply("/usr/bin/docker stop victim; echo after"), timeout=30)
        waited = time.monotonic() - started
        stub = session_shells.run(shell, "-c", names.apply("x=victim; docker stop $x"), timeout=30)
    finally:
        os.kill(session_shells.process.pid, signal.SIGCONT)
    assert result.returncode == 1 and "after" not in result.stdout
    assert "has no broker any more" in result.stderr
    assert waited < 5, waited
    assert stub.returncode != 0 and "has no broker any more" in stub.stderr
    assert engine.snapshot() == fixtures_intact


def test_bash_options_of_the_user_still_hold(session_shells, engine):
    result = session_shells.run("bash", "-eu", "-c", "docker ps -q | wc -l >/dev/null; eval 'echo evaluated'")
    assert (result.returncode, result.stdout, result.stderr) == (0, "evaluated\n", "")
    traced = session_shells.run("bash", "-x", "-c", "echo hi")
    assert "__WINGMAN" not in traced.stderr and "+ echo hi" in traced.stderr


@pytest.mark.parametrize("shell, variable", [("bash", "BASH_ENV"), ("bash", "ZDOTDIR"), ("zsh", "ZDOTDIR"), ("zsh", "BASH_ENV")])
def test_a_nested_shell_cannot_be_sent_past_the_hooks(shell, variable, session_shells):
    result = session_shells.run(shell, "-c", f"{variable}=/nowhere sh -c 'echo nested:${variable}'")
    assert "nested:/nowhere" not in result.stdout
    assert re.search("read-?only variable", result.stderr)


def test_bash_hook_functions_are_read_only(session_shells):
    # An eval of text only known when it runs arms the per-command checks, so the functions exist
    # and are in force. (Text whose plan arms nothing never calls them: the hook ends before it
    # defines them.)
    result = session_shells.run("bash", "-c", 'n=__wing; n+=man_ask; eval "$n() { return 0; }"; echo redefined=$?; '
                                "/usr/bin/docker stop ghost-never-made; echo after=$?")
    assert "readonly function" in result.stderr and "redefined=1" in result.stdout, result.stderr
    # Still the hook's own function, which asks the broker: the next risky command is refused.
    assert "refused: /usr/bin/docker stop ghost-never-made" in result.stderr and "after=1" in result.stdout


def test_benchmark_runs(wingman_home):
    result = subprocess.run([sys.executable, str(BENCH), "--rounds", "1"], env=wingman_home.env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "builtin-heavy.sh" in result.stdout and "bash -c 'true'" in result.stdout
    print(result.stdout)
