"""Arm the bash and zsh hooks for every shell the session starts.

The hook files are written into the session directory with the session's
values baked in (the interpreter, the session dir, the words worth asking the
policy about), so that nothing the session later does to its environment
changes how the hooks work. bash is armed through BASH_ENV (non-interactive)
and --rcfile (interactive); zsh through a ZDOTDIR whose startup files chain to
the user's own.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from ..broker.address import BrokerAddress
from ..resources import shell_hooks_dir
from ..session.layout import HOOKS_DIR
from ..session.record import Session
from .patterns import WATCH_PATTERN, armed_words, judge_pattern, prefilter, words_pattern

ZSH_STARTUP_FILES = (".zshenv", ".zprofile", ".zshrc", ".zlogin", ".zlogout")

def hooks_dir(session: Session) -> Path:
    return session.path / HOOKS_DIR


def user_zdotdir(environ) -> str:
    return environ.get("ZDOTDIR") or environ.get("HOME") or os.path.expanduser("~")


def render(template: str, values: dict[str, str], raw: dict[str, str] | None = None) -> str:
    """The template with @NAME@ replaced: values shell-quoted, raw ones (code, case arms) as they are."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", shlex.quote(value))
    for name, value in (raw or {}).items():
        template = template.replace(f"@{name}@", value)
    return template


def broker_values(session: Session, broker: BrokerAddress) -> dict[str, str]:
    return {"SESSION": session.id, "PORT": str(broker.port), "SECRET": broker.secret,
            "LONG_WAIT": str(broker.long_wait), "STUBS_DIR": str(session.shim_dir)}


def write_bash_hook(session: Session, environ, broker: BrokerAddress) -> Path:
    values = {
        **broker_values(session, broker), "USER_BASH_ENV": environ.get("BASH_ENV", ""),
        "WORDS": armed_words(),
        "PREFILTER": prefilter("bash"),
        "JUDGE_RE": judge_pattern(), "WATCH_RE": WATCH_PATTERN, "STUB_DOCKER": str(session.shim_dir / "docker"), "STUB_COMPOSE": str(session.shim_dir / "docker-compose"),
        "STUB_PODMAN": str(session.shim_dir / "podman"),
    }
    path = hooks_dir(session) / "wingman.bash"
    path.write_text(render((shell_hooks_dir() / "wingman.bash").read_text(), values))
    return path


def write_zsh_hooks(session: Session, environ, broker: BrokerAddress) -> Path:
    zdotdir = hooks_dir(session) / "zsh"
    zdotdir.mkdir(mode=0o700)
    hook = zdotdir / "wingman.zsh"
    values = {
        **broker_values(session, broker), "USER_ZDOTDIR": user_zdotdir(environ),
        "ZDOTDIR": str(zdotdir),
        "WORDS": armed_words(), "WORDS_PATTERN_ZSH": words_pattern(), "PREFILTER_ZSH": prefilter("zsh"),
    }
    hook.write_text(render((shell_hooks_dir() / "wingman.zsh").read_text(), values))
    for name in ZSH_STARTUP_FILES:
        (zdotdir / name).write_text(
            f"# wingman-run: the user's own {name}, then the session's hook.\n"
            f"__WINGMAN_STARTUP={shlex.quote(name)}\n"
            f"\\builtin source {shlex.quote(str(hook))}\n"
        )
    return zdotdir


def is_bash(command: list[str]) -> bool:
    return bool(command) and os.path.basename(command[0]) in ("bash", "rbash")


def with_rcfile(command: list[str], rcfile: Path) -> list[str]:
    """An interactive bash the launcher starts reads the hook as its rcfile (which sources ~/.bashrc)."""
    if not is_bash(command) or any(a in ("--rcfile", "--init-file", "--norc") for a in command[1:]):
        return command
    return [command[0], "--rcfile", str(rcfile), *command[1:]]


def arm_shell_hooks(session: Session, env: dict, environ, command: list[str], broker: BrokerAddress) -> list[str]:
    """Write the session's hook files, point env at them; return the command to start."""
    hooks_dir(session).mkdir(mode=0o700, exist_ok=True)
    bash_hook = write_bash_hook(session, environ, broker)
    env["BASH_ENV"] = str(bash_hook)
    env["ZDOTDIR"] = str(write_zsh_hooks(session, environ, broker))
    return with_rcfile(command, bash_hook)
