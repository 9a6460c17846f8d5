"""The shell hooks' slow path: the policy core judges shell text, the gate audits and refuses.

Invoked by the session's bash and zsh hooks as
    python -I -m sandbox.cli.hook SESSION_DIR SHELL SCOPE TEXT [JUDGED]

SCOPE says what TEXT is:
  string   the whole `-c` string, before its first command runs: refused as a whole
  script   a script file's text, before its first line runs: refused only when it
           tampers with the hooks; else prints the programs of its risky commands,
           which the hook then checks command by command
  command  one command, as the shell is about to run it; JUDGED, when given, is
           the `-c` string this shell already passed as a whole

Exit status 0: run it. 1: refused (the gate printed why). Anything else is a
failure, which the hooks treat as a refusal.
"""

from __future__ import annotations

import os
import sys

from .failsafe import load_session_or_refuse, refuse_on_error
from ..gate import gate, session_context, session_policy
from ..policy import Decision, Verdict, decide_text
from ..policy.engine import program_name

SCOPES = ("string", "script", "command")
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


def already_judged(decision: Decision, judged: Decision) -> bool:
    """Every guarded command this one runs was in the `-c` string the gate already let through."""
    passed = {f.argv for f in judged.findings}
    mine = guarded(decision)
    return bool(mine) and all(f.argv in passed for f in mine)


def main(args: list[str] | None = None) -> None:
    refuse_on_error(_main, sys.argv[1:] if args is None else args)


def _main(args: list[str]) -> None:
    if len(args) not in (4, 5) or args[2] not in SCOPES:
        sys.stderr.write("usage: python -m sandbox.cli.hook SESSION_DIR SHELL string|script|command TEXT [JUDGED]\n")
        raise SystemExit(2)
    session_dir, shell, scope, text = args[:4]
    session = load_session_or_refuse(session_dir, text)
    cwd = os.getcwd()
    policy = session_policy(session)
    ctx = session_context(session, cwd)
    decision = decide_text(text, policy, ctx)
    if scope == "script" and not any(f.rule == TAMPER_RULE for f in decision.findings):
        # Checked command by command as the script runs: tell the hook which programs to watch.
        risky = {program_name(f.argv[0]) for f in decision.findings if f.verdict is not Verdict.ALLOW and f.argv}
        print(" ".join(sorted(risky)))
        raise SystemExit(0)
    if scope == "command" and len(args) == 5 and already_judged(decision, decide_text(args[4], policy, ctx)):
        raise SystemExit(0)  # the whole string passed the gate before it started: one decision, one event
    if decision.verdict is Verdict.ALLOW and not guarded(decision):
        raise SystemExit(0)
    # Allowed ones are audited here too: a full path or git never reaches a stub.
    result = gate(session, decision, layer="hook", argv=deciding_argv(decision, shell, text), cwd=cwd, shown=text)
    raise SystemExit(0 if result.allowed else 1)


if __name__ == "__main__":
    main()
