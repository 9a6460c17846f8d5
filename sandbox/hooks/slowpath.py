"""The shell hooks' slow path, served by the broker: the policy core judges shell text.

The hooks send (SHELL, SCOPE, CWD, TEXT); SCOPE says what TEXT is
(`file`: the path of a script, which the broker reads and plans as `script`):
  script   a `-c` string or a script file's text, before its first command runs:
           refused as a whole only when it tampers with the hooks; else the
           answer names the programs of its risky commands, which the hook
           then checks command by command as they run ("*": all of them)
  command  one command, as the shell is about to run it. When it is refused,
           the answer names the word the shell will look the command up by,
           so the hook can make that one command fail (status 1) instead of
           running it
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..policy import Decision, Policy, Verdict, decide_argv, decide_text
from ..policy.context import Context
from ..policy.engine import program_name
from ..policy.shell import Unparsable, only_defines_functions, parse_commands
from .patterns import FirstLook

SCOPES = ("script", "file", "command")
# Words the shell never looks up as a function: a stand-in by that name would not run.
RESERVED_WORDS = frozenset({"time", "coproc", "!", "if", "then", "else", "elif", "fi", "for", "while", "until", "do",
                            "done", "case", "esac", "select", "function", "{", "}", "[[", "]]", "((", "builtin"})
TAMPER_RULE = "hook.tamper"
UNREADABLE_RULE = "parse.unsupported"
OPAQUE_RULE = "shell.opaque"
EVERY_WORD = "*"
# What a word to arm may be: the hooks build a glob of them.
_PROGRAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_FIRST_LOOK = FirstLook()


@dataclass
class HookPlan:
    """What the broker does with one hook request."""

    decision: Decision
    gate: bool  # audit it (and refuse it unless allowed or approved)
    argv: list[str]  # what the audit event and a later layer call it
    words: str | None = None  # script scope: the words to arm


def deciding_argv(decision: Decision, shell: str, text: str) -> list[str]:
    """The argv the decision is about (a later layer may see the same one), else the shell's."""
    for finding in decision.findings:
        if finding.rule == decision.rule and finding.argv:
            return list(finding.argv)
    return [shell, "-c", text]


def guarded(decision: Decision) -> list:
    """The findings about a guarded program (rule "none" means no rule looked at it)."""
    return [f for f in decision.findings if f.rule != "none"]


def plan(shell: str, scope: str, text: str, policy: Policy, ctx: Context,
         stubbed: frozenset[str] = frozenset()) -> HookPlan:
    """stubbed: the programs that reach the session's stubs by PATH in the asking shell right now."""
    watched = False
    if scope == "script":
        # The hooks' own first look, done here for text too long for the shell's regex engine.
        watched, judged = _FIRST_LOOK(text)
        if not watched and not judged:
            return HookPlan(Decision.combine([]), gate=False, argv=[shell, "-c", text], words="")
    # A quoted or backslashed name (\docker) is a way around the user's aliases: the hook judges it itself.
    stubbed = frozenset(p for p in stubbed if not re.search(r"[\\\\'\"]" + re.escape(p), text))
    decision = decide_text(text, policy, ctx, deferred=stubbed if scope == "command" else frozenset())
    argv = deciding_argv(decision, shell, text)
    tampers = any(f.rule == TAMPER_RULE for f in decision.findings)
    if scope == "command" and shell == "zsh" and not tampers and only_defines_functions(text):
        # zsh hands its trap a function's definition too; the body's commands come to the trap when it runs.
        return HookPlan(Decision.combine([]), gate=False, argv=argv)
    if scope == "script" and not tampers:
        unknown = {UNREADABLE_RULE, OPAQUE_RULE}
        if (watched and _FIRST_LOOK.sources(text)) or any(f.rule in unknown for f in decision.findings):
            # Runs text nobody can read up front (a sourced file, eval of what is only known when it
            # runs), or too large or odd to plan: every command is checked. eval of a literal is read.
            return HookPlan(decision, gate=False, argv=argv, words=EVERY_WORD)
        risky = {program_name(f.argv[0]) for f in decision.findings if f.verdict is not Verdict.ALLOW and f.argv}
        if any(not _PROGRAM_NAME.fullmatch(name) for name in risky):
            # A name known only when it runs (`$(...) stop x`): any command may be the risky one.
            return HookPlan(decision, gate=False, argv=argv, words=EVERY_WORD)
        # Allowed and guarded: nothing in it will be checked again, so this is its one record.
        record = decision.verdict is Verdict.ALLOW and bool(guarded(decision))
        return HookPlan(decision, gate=record, argv=argv, words=" ".join(sorted(risky)))
    if decision.verdict is Verdict.ALLOW and not guarded(decision):
        return HookPlan(decision, gate=False, argv=argv)
    # Allowed ones are audited too: a full path or git never reaches a stub.
    return HookPlan(decision, gate=True, argv=argv)


def lookup_name(text: str, shell: str, policy: Policy, ctx: Context) -> str:
    """The word the shell will look the command up by (`/usr/bin/docker`, `command`, `eval`), or ''.

    bash hands its trap one simple command; commands inside its substitutions
    come to their own trap first, so the outer one's name is enough. zsh hands
    over a whole list (`a && b || c`) and checks none of its other commands,
    so there the first may stand in only when everything after it is allowed.
    """
    try:
        commands = parse_commands(text)
    except Unparsable:
        return ""
    if not commands:
        return ""
    word = _first_word(text)
    if any(c in word for c in "$`"):
        # The name is built when it runs (`$(echo /usr/bin/docker) stop x`): no stand-in can take its place.
        return ""
    # The outer command, not one inside a substitution in its words (those are parsed first);
    # zsh hands over compound commands (`for ...; do eval ...; done`), where it is the first one inside.
    first = next((c for c in commands if c.kind == "simple" and c.argv and c.argv[0] == word), commands[0])
    if first.kind != "simple" or first.via or not first.argv or first.is_dynamic(0):
        return ""
    if shell != "bash" and not all(_allowed_alone(c, policy, ctx) for c in commands if c is not first):
        return ""
    return "" if first.argv[0] in RESERVED_WORDS else first.argv[0]


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=[^\s$`'\"]*")


def _first_word(text: str) -> str:
    """The command's first word as written, after plain NAME=value assignments."""
    for word in text.split():
        if not _ASSIGNMENT.fullmatch(word):
            return word
    return ""


def _allowed_alone(command, policy, ctx) -> bool:
    if command.opaque or not command.argv or command.is_dynamic(0):
        return False
    return decide_argv(command.argv, policy, ctx).verdict is Verdict.ALLOW
