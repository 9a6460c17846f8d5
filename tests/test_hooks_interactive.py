"""Interactive bash and zsh inside a session, typed at through a pty, with the user's own hooks beside ours."""

from __future__ import annotations

import time
from pathlib import Path

import pexpect
import pytest

from conftest import WINGMAN_RUN
from fixtures_engine import names

DATA = Path(__file__).parent / "data"
PROMPT = "PROMPT> "

BASHRC = f"""
source {DATA / 'bash-preexec.sh'}
preexec() {{ printf 'preexec %s\\n' "$1" >> "$HOME/hooks.log"; }}
precmd() {{ printf 'precmd\\n' >> "$HOME/hooks.log"; }}
PS1='{PROMPT}'
"""

# The user keeps their zsh files in their own ZDOTDIR, set from ~/.zshenv.
ZSHENV = 'export ZDOTDIR="$HOME/.config/zsh"\n'
ZSHRC = f"""
precmd_functions=()
autoload -Uz add-zsh-hook
log_preexec() {{ print -r -- "preexec $1" >> "$HOME/hooks.log"; }}
log_precmd() {{ print -r -- "precmd" >> "$HOME/hooks.log"; }}
add-zsh-hook preexec log_preexec
add-zsh-hook precmd log_precmd
PS1='{PROMPT}'
"""


def user_home(tmp_path: Path, shell: str) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    if shell == "bash":
        (home / ".bashrc").write_text(BASHRC)
    else:
        (home / ".zshenv").write_text(ZSHENV)
        (home / ".config" / "zsh").mkdir(parents=True)
        (home / ".config" / "zsh" / ".zshrc").write_text(ZSHRC)
    return home


def spawn(shell: str, home: Path, wingman_home) -> pexpect.spawn:
    env = {**wingman_home.env, "HOME": str(home), "TERM": "dumb"}
    child = pexpect.spawn(WINGMAN_RUN, ["--", shell], env=env, cwd=str(home), dimensions=(30, 120),
                          encoding="utf-8", timeout=20)
    child.expect_exact(PROMPT)
    return child


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_typed_commands(shell, tmp_path, wingman_home, fixtures_intact, engine):
    home = user_home(tmp_path, shell)
    child = spawn(shell, home, wingman_home)

    child.sendline("echo ready-$((20 + 1))")
    child.expect_exact("ready-21")
    child.expect_exact(PROMPT)

    child.sendline(names.apply("/usr/bin/docker stop victim"))
    child.expect_exact(names.apply("wingman-run: refused: /usr/bin/docker stop victim"))
    child.expect_exact(PROMPT)

    child.sendline("echo next-$((1 + 1))")
    child.expect_exact("next-2")
    child.expect_exact(PROMPT)

    child.sendline(names.apply("command docker kill victim"))  # again, after the user's hooks have settled in
    child.expect_exact("wingman-run: refused:")
    child.expect_exact(PROMPT)

    child.sendline("sleep 30")
    time.sleep(1)
    started = time.monotonic()
    child.sendintr()
    child.expect_exact(PROMPT, timeout=5)
    assert time.monotonic() - started < 5  # Ctrl-C ended the sleep

    child.sendline("exit 7")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 7

    assert engine.snapshot() == fixtures_intact
    hooks = [e for e in wingman_home.events() if e["event"] == "decision" and e["layer"] == "hook"]
    assert [e["verdict"] for e in hooks] == ["ask", "ask"]
    log = (home / "hooks.log").read_text()
    assert "preexec echo next-$((1 + 1))" in log  # the user's preexec still runs
    assert log.count("precmd") >= 4  # and their precmd, at every prompt
