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
import re
import shlex
from pathlib import Path

from ..resources import shell_hooks_dir
from ..policy.packs import BY_COMMAND
from ..broker.address import BrokerAddress
from ..session.layout import HOOKS_DIR
from ..session.record import GUARDED_PROGRAMS, Session

ZSH_STARTUP_FILES = (".zshenv", ".zprofile", ".zshrc", ".zlogin", ".zlogout")

# Text that disables or sidesteps the hooks, or carries a nested shell past them
# (extended regular expressions, matched once against a whole -c string or script).
TAMPER_PATTERNS = (
    r"BASH_ENV", r"ZDOTDIR", r"extdebug", r"functrace", r"set[[:space:]]+\+[oT]", r"trap.*DEBUG", r"TRAPDEBUG",
    r"__wingman", r"__WINGMAN", r"env[[:space:]]+-[iu]", r"--ignore-environment", r"--unset", r"--norc",
    r"--noprofile", r"--posix", r"--rcfile", r"--init-file", r"zsh[[:space:]]+-[a-z]*[fd]", r"[Nn][Oo]_?[Rr][Cc][Ss]",
    r"unsetopt", r"unfunction", r"enable[[:space:]]+-n", r"BASH_FUNC", r"(export|declare|typeset)[[:space:]]+-[a-z]*f",
)
# The same, as single words: one of them in a command sends it to the policy core.
TAMPER_WORDS = (
    "BASH_ENV", "ZDOTDIR", "extdebug", "functrace", "+T", "DEBUG", "TRAPDEBUG", "unsetopt", "unfunction",
    "--ignore-environment", "--unset", "--norc", "--noprofile", "--posix", "--rcfile", "--init-file", "NO_RCS",
    "no_rcs", "norcs", "NORCS", "enable",
)
# A word edge. "#" is not one: "#docker" is a comment, not a command.
_EDGE = "[^A-Za-z0-9_.#-]"
# What may come before a match on its line: nothing, or text that does not start a comment.
# The hooks put a newline and a blank before every line of the text they match.
_CODE_LINE = "\n[[:blank:]]*([^#[:blank:]\n][^\n]*)?"
# Words after which the shell runs text nobody can read before it starts.
WATCH_PATTERN = _CODE_LINE + f"({_EDGE}(eval|source)($|{_EDGE})|[;&|({{[:blank:]]\\.[[:blank:]])"


def guarded_programs() -> list[str]:
    """Every program a rule pack judges, plus the ones the session stubs."""
    return sorted(set(BY_COMMAND) | set(GUARDED_PROGRAMS))


def _ere_escape(word: str) -> str:
    return "".join("\\" + c if c in ".[]()*+?{}|^$\\" else c for c in word)


def judge_pattern() -> str:
    """Text worth a policy decision: it names a guarded program (as a word) or touches the hooks."""
    names = "|".join(_ere_escape(name) for name in guarded_programs())
    return _CODE_LINE + f"({_EDGE}({names})($|{_EDGE})|" + "|".join(TAMPER_PATTERNS) + ")"


_POSIX_CLASSES = {"[[:space:]]": r"\s", "[[:blank:]]": "[ \t]", "[:blank:]": " \t"}


def python_pattern(ere: str) -> str:
    """One of the hooks' extended regular expressions, for Python's re (which lacks POSIX classes)."""
    for posix, python in _POSIX_CLASSES.items():
        ere = ere.replace(posix, python)
    return ere


def hook_view(text: str) -> str:
    """The text as the hooks match it: quotes and backslashes dropped, every line after a newline and a blank."""
    plain = re.sub(r"[\\\"']", "", text)
    return "\n " + plain.replace("\n", "\n ")


def armed_words() -> str:
    return " ".join([*guarded_programs(), *TAMPER_WORDS])


# The hook's own names, in any case: a command that names them is always looked at.
_OWN_NAMES = "__[Ww][Ii][Nn][Gg][Mm][Aa][Nn]"


def _glob_escape(word: str, special: str) -> str:
    return "".join("\\" + c if c in special else c for c in word)


def words_pattern(shell: str) -> str:
    """One glob matching any text that holds an armed word (or the hook's names) anywhere.

    A cheap superset: the trap looks closer (word by word) only at what it matches.
    """
    special = "*?[]()|@!+\\" if shell == "bash" else "*?[]()|<>^#~\\"
    words = "|".join(_glob_escape(w, special) for w in armed_words().split())
    return f"*@({_OWN_NAMES}|{words})*" if shell == "bash" else f"*({_OWN_NAMES}|{words})*"


def hooks_dir(session: Session) -> Path:
    return session.path / HOOKS_DIR


def user_zdotdir(environ) -> str:
    return environ.get("ZDOTDIR") or environ.get("HOME") or os.path.expanduser("~")


def render(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace(f"@{name}@", shlex.quote(value))
    return template


def broker_values(session: Session, broker: BrokerAddress) -> dict[str, str]:
    return {"SESSION": session.id, "PORT": str(broker.port), "SECRET": broker.secret,
            "LONG_WAIT": str(broker.long_wait), "STUBS_DIR": str(session.shim_dir)}


def write_bash_hook(session: Session, environ, broker: BrokerAddress) -> Path:
    values = {
        **broker_values(session, broker), "USER_BASH_ENV": environ.get("BASH_ENV", ""),
        "JUDGE_RE": judge_pattern(), "WATCH_RE": WATCH_PATTERN, "WORDS": armed_words(),
        "WORDS_PATTERN": words_pattern("bash"), "STUB_DOCKER": str(session.shim_dir / "docker"), "STUB_COMPOSE": str(session.shim_dir / "docker-compose"),
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
        "ZDOTDIR": str(zdotdir), "JUDGE_RE": judge_pattern(), "WATCH_RE": WATCH_PATTERN,
        "WORDS": armed_words(), "WORDS_PATTERN_ZSH": words_pattern("zsh"),
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
