"""Which path a shell takes through the hooks: none, the policy core, or a refusal when the core cannot run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures_engine import names

BENCH = Path(__file__).resolve().parent.parent / "bench" / "hooks_bench.py"


@pytest.fixture()
def session_shells(wingman_home, tmp_path):
    """A session's BASH_ENV and ZDOTDIR, with its interpreter swapped for one that logs each start."""
    out = wingman_home.run("--", "sh", "-c", 'printf "%s\\n%s\\n" "$BASH_ENV" "$ZDOTDIR"')
    bash_env, zdotdir = out.stdout.split()
    log = tmp_path / "python-starts.log"
    logger = tmp_path / "python"
    logger.write_text(f'#!/bin/sh\necho started >> {log}\nexec {sys.executable} "$@"\n')
    logger.chmod(0o755)
    for hook in (Path(bash_env), Path(zdotdir) / "wingman.zsh"):
        hook.write_text(re.sub(r"__WINGMAN_PYTHON=\S+", f"__WINGMAN_PYTHON={logger}", hook.read_text()))
    env = {**wingman_home.env, "BASH_ENV": bash_env, "ZDOTDIR": zdotdir}
    return Shells(env, log, logger, tmp_path)


class Shells:
    def __init__(self, env, log: Path, python: Path, cwd: Path):
        self.env, self.log, self.python, self.cwd = env, log, python, cwd

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=60)

    def python_starts(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_no_python_for_text_that_names_no_guarded_program(shell, session_shells):
    quiet = [
        "echo hello; ls / >/dev/null; x=$(printf firm-app); echo $x",
        "# docker rm -f victim, in a comment only\necho done",
        "for i in 1 2 3; do : $((i * 2)); done; echo ok",
    ]
    for text in quiet:
        result = session_shells.run(shell, "-c", text)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    script = session_shells.cwd / "build.sh"
    script.write_text("#!/usr/bin/env bash\n# runs no docker: docker stop would be refused\necho building\n")
    assert session_shells.run(shell, str(script)).stdout == "building\n"
    assert session_shells.python_starts() == 0


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_text_naming_a_guarded_program_goes_to_the_core(shell, session_shells, engine):
    result = session_shells.run(shell, "-c", "docker ps -q >/dev/null && echo listed")
    assert result.stdout == "listed\n", result.stderr
    assert session_shells.python_starts() == 1  # the whole string, once; the stub's fast path runs docker


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_checker_that_cannot_start_refuses(shell, session_shells, fixtures_intact, engine):
    session_shells.python.write_text("#!/bin/sh\nexit 127\n")
    result = session_shells.run(shell, "-c", names.apply("/usr/bin/docker stop victim; echo after"))
    assert result.returncode == 1
    assert "after" not in result.stdout
    assert names.apply("wingman-run: refused: /usr/bin/docker stop victim") in result.stderr
    assert "could not run" in result.stderr
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
    # eval arms the per-command checks, so the functions exist and are in force.
    result = session_shells.run("bash", "-c", "eval true; __wingman_ask() { return 0; }; declare -f __wingman_ask")
    assert "readonly function" in result.stderr or result.returncode == 1
    assert "return 0" not in result.stdout


def test_benchmark_runs(wingman_home):
    result = subprocess.run([sys.executable, str(BENCH), "--rounds", "1"], env=wingman_home.env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "builtin-heavy.sh" in result.stdout and "bash -c 'true'" in result.stdout
    print(result.stdout)
