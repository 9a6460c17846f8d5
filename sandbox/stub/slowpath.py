"""The docker stub's slow path: the policy core decides, then the real program runs or not.

Invoked by the session's stub scripts as
    python -I -m sandbox.stub.slowpath SESSION_DIR PROGRAM ARGS...
"""

from __future__ import annotations

import os
import sys

from ..session.failsafe import load_session_or_refuse, refuse_on_error
from ..broker.enforce import gate, record_exit, session_context, session_policy
from ..policy import Decision, Finding
from ..policy.context import DAEMON_VARIABLES
from ..policy.engine import judge_argv
from ..policy.packs import ALL_RULES
from ..session.runner import die_like, run_forwarding
from ..session.record import Session



def env_findings(session: Session, argv: list[str], environ) -> list[Finding]:
    """A daemon variable (DOCKER_HOST, DOCKER_CONFIG, DOCKER_CERT_PATH...) set inside the session is a daemon override."""
    rule = ALL_RULES["docker.host.override"]
    policy = session_policy(session)
    out = []
    for name in DAEMON_VARIABLES:
        value = environ.get(name)
        if value and value != session.docker_env.get(name):
            out.append(Finding(tuple(argv), policy.verdict_for(rule), rule.id, rule.reason, rule.alternative, f"{name}={value}"))
    return out


def main(args: list[str] | None = None) -> None:
    refuse_on_error(_main, sys.argv[1:] if args is None else args)


def _main(args: list[str]) -> None:
    if len(args) < 2:
        sys.stderr.write("usage: python -m sandbox.stub.slowpath SESSION_DIR PROGRAM [ARGS...]\n")
        raise SystemExit(2)
    session_dir, program, rest = args[0], args[1], args[2:]
    argv = [program, *rest]
    session = load_session_or_refuse(session_dir, program)
    cwd = os.getcwd()
    policy = session_policy(session)
    findings = judge_argv(argv, policy, session_context(session, cwd))
    findings += env_findings(session, argv, os.environ)
    decision = Decision.combine(findings)
    result = gate(session, decision, layer="stub", argv=argv, cwd=cwd)
    if not result.allowed:
        raise SystemExit(1)
    real = session.real.get(program)
    if not real:
        sys.stderr.write(f"wingman-run: {program}: not installed outside the session\n")
        record_exit(session, result, "stub", 127)
        raise SystemExit(127)
    env = {k: v for k, v in os.environ.items() if k not in DAEMON_VARIABLES}
    env.update(session.docker_env)
    status = run_forwarding([real, *rest], env)
    record_exit(session, result, "stub", status)
    die_like(status)


if __name__ == "__main__":
    main()
