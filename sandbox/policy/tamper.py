"""Spot commands that switch off or sidestep the session's shell hooks.

The bash and zsh hooks are a DEBUG trap plus functions and variables named
__wingman_* / __WINGMAN_*, armed through BASH_ENV, ZDOTDIR and ENV. Anything
that removes, redefines or skips them is tampering. The engine only refuses it
when the same text also reaches a guarded program: `env -i make test` is fine.
"""

from __future__ import annotations

from typing import Iterable

from .shell import Command

HOOK_PREFIX = "__wingman_"
STARTUP_VARIABLES = frozenset({"BASH_ENV", "ZDOTDIR", "ENV"})
TRAPPED_SIGNALS = frozenset({"DEBUG", "ZERR"})
# zsh option names are case- and underscore-insensitive.
_ZSH_GUARD_OPTIONS = frozenset({"rcs", "globalrcs", "debugbeforecmd"})
# Builtins the hooks rely on; a function of that name shadows them.
_SHADOWED_BUILTINS = frozenset({"builtin", "command", "trap", "shopt", "set", "unset", "setopt", "unsetopt",
                                "eval", "source", ".", "TRAPDEBUG", "TRAPZERR"})


def _is_hook_name(name: str) -> bool:
    return name.lower().startswith(HOOK_PREFIX)


def _zsh_option(word: str) -> tuple[str, bool]:
    """(canonical option name, whether the word turns it off)."""
    name = word.lower().replace("_", "").replace("-", "")
    if name.startswith("no") and name[2:] in _ZSH_GUARD_OPTIONS:
        return name[2:], True
    return name, False


def tampering(command: Command) -> str | None:
    """Why this one command tampers with the hooks, or None."""
    argv = command.argv
    if not argv:
        return None
    if command.kind == "function":
        if _is_hook_name(argv[0]) or argv[0] in _SHADOWED_BUILTINS:
            return f"defines a function {argv[0]} over the session's hook"
        return None
    for key, _value in command.assigns:
        # Assigned, exported, or set for one command (BASH_ENV= bash -c ...): all change what the hooks rely on.
        if key in STARTUP_VARIABLES or _is_hook_name(key):
            return f"overwrites {key}"
    if command.kind not in ("simple", "wrapper"):
        return None
    name = command.name
    args = argv[1:]
    if name == "trap":
        words = [a for a in args if a != "--"]
        if words and words[0] in ("-p", "-l"):
            return None
        signals = {w.upper().removeprefix("SIG") for w in words[1:]} if len(words) > 1 else set()
        hit = signals & TRAPPED_SIGNALS
        if hit:
            return f"redefines the {'/'.join(sorted(hit))} trap the hooks run in"
        return None
    if name == "shopt":
        if "-u" in args and any(a in ("extdebug", "functrace") for a in args):
            return "turns off extdebug, which lets the hook skip a command"
        return None
    if name == "set":
        for k, a in enumerate(args):
            if a.startswith("+") and not a.startswith("+o") and "T" in a:
                return "turns off functrace (set +T)"
            if a == "+o" and k + 1 < len(args) and args[k + 1] in ("functrace", "extdebug"):
                return f"turns off {args[k + 1]}"
            if a == "+o" and k + 1 < len(args) and _zsh_option(args[k + 1])[0] in _ZSH_GUARD_OPTIONS:
                return f"turns off {args[k + 1]}"
        return None
    if name in ("unset", "unfunction", "unhash"):
        for a in args:
            if _is_hook_name(a) or a in STARTUP_VARIABLES or a in ("TRAPDEBUG", "TRAPZERR"):
                return f"removes {a}"
        return None
    if name in ("setopt", "unsetopt"):
        for a in args:
            option, negated = _zsh_option(a)
            if option in _ZSH_GUARD_OPTIONS and (negated != (name == "unsetopt")):
                return f"turns off the zsh option {a}"
        return None
    if name in ("export", "declare", "typeset") and any(a in ("-n", "+x") for a in args):
        for a in args:
            if a.split("=", 1)[0] in STARTUP_VARIABLES:
                return f"stops exporting {a}"
        return None
    if name == "alias":
        for a in args:
            key = a.split("=", 1)[0]
            if _is_hook_name(key) or key in _SHADOWED_BUILTINS:
                return f"defines an alias {key} over the session's hook"
        return None
    if name == "env":
        for k, a in enumerate(args):
            if a in ("-i", "--ignore-environment", "-"):
                return "clears the environment the hooks are armed through (env -i)"
            if a in ("-u", "--unset") and k + 1 < len(args) and args[k + 1] in STARTUP_VARIABLES:
                return f"unsets {args[k + 1]} (env -u)"
            if a.startswith("--unset=") and a.split("=", 1)[1] in STARTUP_VARIABLES:
                return f"unsets {a.split('=', 1)[1]} (env -u)"
            if "=" in a and a.split("=", 1)[0] in STARTUP_VARIABLES:
                return f"overwrites {a.split('=', 1)[0]}"
            if not a.startswith("-") and "=" not in a:
                break
        return None
    if name == "exec" and any(a == "-c" or (a.startswith("-") and "c" in a[1:] and not a.startswith("--")) for a in args[:3]):
        return "runs a command with an empty environment (exec -c)"
    if name in ("bash", "sh", "rbash"):
        for a in args:
            if a in ("--norc", "--noprofile", "--posix", "--rcfile", "--init-file", "--restricted"):
                return f"starts {name} without the session's startup files ({a})"
            if a.startswith("-") and not a.startswith("--") and "p" in a[1:]:
                return f"starts {name} in privileged mode, which skips BASH_ENV (-p)"
            if not a.startswith("-") and not a.startswith("+"):
                break
        return None
    if name == "zsh":
        for a in args:
            if a in ("--no-rcs", "--no-globalrcs", "--norcs", "--noglobalrcs"):
                return f"starts zsh without its startup files ({a})"
            if a.startswith("-") and not a.startswith("--") and any(c in a[1:] for c in "fd"):
                return f"starts zsh without its startup files ({a})"
            if not a.startswith("-") and not a.startswith("+"):
                break
        return None
    return None


def find_tampering(commands: Iterable[Command]) -> list[tuple[Command, str]]:
    out = []
    for command in commands:
        reason = tampering(command)
        if reason:
            out.append((command, reason))
    return out
