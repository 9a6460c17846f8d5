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

from .resources import shell_hooks_dir
from .policy.packs import BY_COMMAND
from .session import GUARDED_PROGRAMS, Session

HOOKS_DIR = "hooks"
ZSH_STARTUP_FILES = (".zshenv", ".zprofile", ".zshrc", ".zlogin", ".zlogout")

# Words that disable or sidestep the hooks, or carry a nested shell past them.
TAMPER_WORDS = (
    "BASH_ENV", "ZDOTDIR", "extdebug", "functrace", "set +T", "set +o", "trap*DEBUG", "TRAPDEBUG",
    "__wingman", "__WINGMAN", "env -i", "env -u", "--ignore-environment", "--unset", "--norc", "--noprofile",
    "--posix", "--rcfile", "--init-file", "zsh -f", "zsh -d", "NO_RCS", "no_rcs", "norcs", "NORCS",
    "unsetopt", "unfunction", "enable -n", "BASH_FUNC", "export -f", "declare -f", "typeset -f",
)
# Words after which the shell runs text nobody can read before it starts.
DYNAMIC_WORDS = ("eval", "source")


def guarded_programs() -> list[str]:
    """Every program a rule pack judges, plus the ones the session stubs."""
    return sorted(set(BY_COMMAND) | set(GUARDED_PROGRAMS))


def _escape_glob(word: str) -> str:
    # Literal in an extglob alternation; "*" stays a wildcard on purpose (trap*DEBUG).
    return "".join("\\" + c if c in "?[]|()@!+\\" else c for c in word)


def _alternation(words) -> str:
    return "*@(" + "|".join(_escape_glob(w) for w in words) + ")*"


def judge_glob() -> str:
    """Text worth a policy decision: it names a guarded program or touches the hooks."""
    return _alternation([*guarded_programs(), *TAMPER_WORDS])


def watch_glob() -> str:
    """Text that may run commands the hooks cannot read up front: `eval`, `source`, `. FILE`."""
    return "@(.[ \t]*|*@(" + "|".join(DYNAMIC_WORDS) + r"|[;&|(){}" + " \t\n" + "].[ \t])*)"


def as_zsh(pattern: str) -> str:
    """zsh spells bash's extglob @(a|b) as a plain group (a|b)."""
    return pattern.replace("@(", "(")


def hooks_dir(session: Session) -> Path:
    return session.path / HOOKS_DIR


def user_zdotdir(environ) -> str:
    return environ.get("ZDOTDIR") or environ.get("HOME") or os.path.expanduser("~")


def render(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace(f"@{name}@", shlex.quote(value))
    return template


def write_bash_hook(session: Session, environ) -> Path:
    values = {
        "PYTHON": session.python, "SESSION_DIR": session.dir, "USER_BASH_ENV": environ.get("BASH_ENV", ""),
        "JUDGE_GLOB": judge_glob(), "WATCH_GLOB": watch_glob(),
        "STUB_DOCKER": str(session.shim_dir / "docker"), "STUB_COMPOSE": str(session.shim_dir / "docker-compose"),
        "STUB_PODMAN": str(session.shim_dir / "podman"),
    }
    path = hooks_dir(session) / "wingman.bash"
    path.write_text(render((shell_hooks_dir() / "wingman.bash").read_text(), values))
    return path


def write_zsh_hooks(session: Session, environ) -> Path:
    zdotdir = hooks_dir(session) / "zsh"
    zdotdir.mkdir(mode=0o700)
    hook = zdotdir / "wingman.zsh"
    values = {
        "PYTHON": session.python, "SESSION_DIR": session.dir, "USER_ZDOTDIR": user_zdotdir(environ),
        "ZDOTDIR": str(zdotdir), "JUDGE_GLOB": as_zsh(judge_glob()), "WATCH_GLOB": as_zsh(watch_glob()),
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


def arm_shell_hooks(session: Session, env: dict, environ, command: list[str]) -> list[str]:
    """Write the session's hook files, point env at them; return the command to start."""
    hooks_dir(session).mkdir(mode=0o700, exist_ok=True)
    bash_hook = write_bash_hook(session, environ)
    env["BASH_ENV"] = str(bash_hook)
    env["ZDOTDIR"] = str(write_zsh_hooks(session, environ))
    return with_rcfile(command, bash_hook)
