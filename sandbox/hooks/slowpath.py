"""The shell hooks' slow path: the policy core judges shell text, the gate audits and refuses.

Invoked by the session's bash and zsh hooks as
    python -I -m sandbox.hooks.slowpath SESSION_DIR SHELL SCOPE TEXT

SCOPE says what TEXT is:
  script   a `-c` string or a script file's text, before its first command runs:
           refused as a whole only when it tampers with the hooks; else prints
           the programs of its risky commands, which the hook then checks
           command by command as they run
  command  one command, as the shell is about to run it. When it is refused,
           prints the name the shell will look the command up by, so the hook
           can make that one command fail (status 1) instead of running it

Exit status 0: run it. 1: refused (the gate printed why). Anything else is a
failure, which the hooks treat as a refusal.
"""

from __future__ import annotations

import os
import sys

from ..session.failsafe import load_session_or_refuse, refuse_on_error
from ..broker.enforce import gate, session_context, session_policy
from ..policy import Decision, Verdict, decide_argv, decide_text
from ..policy.engine import program_name
from ..policy.shell import Unparsable, parse_commands

SCOPES = ("script", "command")
# Words the shell never looks up as a function: a stand-in by that name would not run.
RESERVED_WORDS = frozenset({"time", "coproc", "!", "if", "then", "else", "elif", "fi", "for", "while", "until", "do",
                            "done", "case", "esac", "select", "function", "{", "}", "[[", "]]", "((", "builtin"})
TAMPER_RULE = "hook.tamper"


def deciding_argv(decision: Decision, shell: str, text: str) -> list[str]:
    """The argv the decision is about (a later layer may see the same one), else the shell's."""
    for finding in decision.findings:
        if finding.rule == decision.rule and finding.argv:
            return list(finding.argv)
    return [shell, "-c", text]


def guarded(decision: Decision) -> list:
    """The findings about a guarded program (rule "none" means no rule looked at it)."""
    return [f for f in decision.findings if f.rule != "none"]


def lookup_name(text: str, shell: str, policy, ctx) -> str:
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
    first = commands[0]
    if first.kind != "simple" or first.via or not first.argv or first.is_dynamic(0):
        return ""
    if shell != "bash" and not all(_allowed_alone(c, policy, ctx) for c in commands[1:]):
        return ""
    return "" if first.argv[0] in RESERVED_WORDS else first.argv[0]


def _allowed_alone(command, policy, ctx) -> bool:
    if command.opaque or not command.argv or command.is_dynamic(0):
        return False
    return decide_argv(command.argv, policy, ctx).verdict is Verdict.ALLOW


def main(args: list[str] | None = None) -> None:
    refuse_on_error(_main, sys.argv[1:] if args is None else args)


def _main(args: list[str]) -> None:
    if len(args) != 4 or args[2] not in SCOPES:
        sys.stderr.write("usage: python -m sandbox.hooks.slowpath SESSION_DIR SHELL script|command TEXT\n")
        raise SystemExit(2)
    session_dir, shell, scope, text = args
    session = load_session_or_refuse(session_dir, text)
    cwd = os.getcwd()
    policy, ctx = session_policy(session), session_context(session, cwd)
    decision = decide_text(text, policy, ctx)
    if scope == "script" and not any(f.rule == TAMPER_RULE for f in decision.findings):
        if decision.verdict is Verdict.ALLOW and guarded(decision):
            # Nothing in it will be checked again: this is the one record of a full-path call.
            gate(session, decision, layer="hook", argv=deciding_argv(decision, shell, text), cwd=cwd, shown=text)
        # Checked command by command as it runs: tell the hook which programs to watch.
        risky = {program_name(f.argv[0]) for f in decision.findings if f.verdict is not Verdict.ALLOW and f.argv}
        print(" ".join(sorted(risky)))
        raise SystemExit(0)
    if decision.verdict is Verdict.ALLOW and not guarded(decision):
        raise SystemExit(0)
    # Allowed ones are audited here too: a full path or git never reaches a stub.
    result = gate(session, decision, layer="hook", argv=deciding_argv(decision, shell, text), cwd=cwd, shown=text)
    if not result.allowed and scope == "command":
        print(lookup_name(text, shell, policy, ctx))
    raise SystemExit(0 if result.allowed else 1)


if __name__ == "__main__":
    main()
