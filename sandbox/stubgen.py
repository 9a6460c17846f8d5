"""Write the session's PATH stubs: small bash scripts with a generated fast path.

The fast path answers `allow` for commands the profile allows outright,
from tables generated out of the docker grammar and the profile, and runs
the real program without starting Python. Anything it does not recognise
to the letter (other options, -H, --context, a set DOCKER_HOST, odd bytes,
a verdict other than allow) goes to the policy core in Python, which is
the authority. The fast path can only ever say less than the core.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from .policy.packs.docker import RULES as DOCKER_RULES
from .policy.packs.docker_grammar import (
    COMPOSE_COMMANDS, COMPOSE_FLAG_OPTIONS, COMPOSE_VALUE_OPTIONS, DOCKER_FLAG_OPTIONS,
    DOCKER_VALUE_OPTIONS, GROUPS, HOST_OPTIONS, CONTEXT_OPTIONS, SHORTCUTS, SINGLES,
)
from .policy.profile import Policy
from .policy.verdict import Verdict
from .session import STUB_MARK, Session

# Arguments that turn an allowed compose command into a risky one: the fast
# path defers when one of them may be present (over-deferring is harmless).
ARG_SENSITIVE = {
    "compose.up": "--renew-anon-volumes*|-[!-]*V*",
    "compose.down": "--volumes*|--rmi*|-[!-]*v*",
}
# Global options the fast path never interprets: they choose the daemon.
_DEFERRED_GLOBALS = HOST_OPTIONS | CONTEXT_OPTIONS


def _q(value: str) -> str:
    return shlex.quote(value)


def _allowed(policy: Policy, key: str) -> str | None:
    rule = DOCKER_RULES.get(f"docker.{key}")
    if rule is not None and policy.verdict_for(rule) is Verdict.ALLOW:
        return rule.id
    return None


def _globals_loop(value_options, flag_options, indent: str) -> list[str]:
    values = sorted(value_options - _DEFERRED_GLOBALS)
    flags = sorted(flag_options)
    return [
        f"{indent}while ((i <= $#)); do",
        f"{indent}  case ${{!i}} in",
        f"{indent}    {'|'.join(values)}) ((i += 2)) ;;",
        f"{indent}    {'|'.join(v + '=*' for v in values)}|{'|'.join(flags)}) ((i += 1)) ;;",
        f"{indent}    -*) return 1 ;;",
        f"{indent}    *) break ;;",
        f"{indent}  esac",
        f"{indent}done",
        f"{indent}((i <= $#)) || return 1",
    ]


def _compose_arms(policy: Policy, indent: str) -> list[str]:
    lines = _globals_loop(COMPOSE_VALUE_OPTIONS, COMPOSE_FLAG_OPTIONS, indent)
    lines.append(f"{indent}case ${{!i}} in")
    for sub in sorted(COMPOSE_COMMANDS):
        rule = _allowed(policy, f"compose.{sub}")
        if not rule:
            continue
        sensitive = ARG_SENSITIVE.get(f"compose.{sub}")
        check = f' __wr_none_match "{sensitive}" "${{@:i+1}}" || return 1;' if sensitive else ""
        lines.append(f"{indent}  {sub}){check} __wr_rule={rule} ;;")
    lines.append(f"{indent}  *) return 1 ;;")
    lines.append(f"{indent}esac")
    return lines


def classify_function(program: str, policy: Policy) -> str:
    """Bash source of __wr_classify: sets __wr_rule and returns 0 when the command is allowed."""
    lines = ["__wr_classify() {", "  local i=1"]
    if not policy.pack_enabled("docker"):
        return "__wr_classify() { __wr_rule=none; }"
    if program in ("docker-compose",):
        lines += _compose_arms(policy, "  ")
        lines.append("}")
        return "\n".join(lines)
    if program != "docker":
        return "__wr_classify() { return 1; }"  # podman and others: the core decides
    lines += _globals_loop(DOCKER_VALUE_OPTIONS, DOCKER_FLAG_OPTIONS, "  ")
    lines.append("  case ${!i} in")
    for word, (group, sub) in sorted(SHORTCUTS.items()):
        if rule := _allowed(policy, f"{group}.{sub}"):
            lines.append(f"    {word}) __wr_rule={rule} ;;")
    for word in sorted(SINGLES):
        if rule := _allowed(policy, word):
            lines.append(f"    {word}) __wr_rule={rule} ;;")
    lines.append("    compose)")
    lines.append("      ((i += 1))")
    lines += _compose_arms(policy, "      ")
    lines.append("      ;;")
    for group, subs in sorted(GROUPS.items()):
        if group == "compose":
            continue
        arms = [(alias, rule) for alias, canonical in sorted(subs.items()) if (rule := _allowed(policy, f"{group}.{canonical}"))]
        if not arms:
            continue
        lines.append(f"    {group})")
        lines.append("      ((i += 1))")
        lines.append("      case ${!i} in")
        for alias, rule in arms:
            lines.append(f"        {alias}) __wr_rule={rule} ;;")
        lines.append("        *) return 1 ;;")
        lines.append("      esac ;;")
    lines.append("    *) return 1 ;;")
    lines.append("  esac")
    lines.append("}")
    return "\n".join(lines)


_TEMPLATE = r'''#!{bash}
{mark} for {program}, session {session_id}. Generated at session start.
# Commands the profile allows outright are run from here without starting
# Python; everything else goes to the policy core, which may refuse or ask.
__wr_real={real}
__wr_session={session_id_q}
__wr_dir={session_dir}
__wr_log={audit_log}
__wr_prog={program_q}
__wr_bad=$'*[\001-\010\013\014\016-\037\177-\377]*'

__wr_slow() {{
  exec {python} -I -m sandbox.cli.stub "$__wr_dir" "$__wr_prog" "$@"
}}

__wr_none_match() {{  # $1: a case pattern; true when no later argument matches it
  local pattern=$1 a
  shift
  for a; do
    [[ $a == -- ]] && return 0
    case $a in $pattern) return 1 ;; esac
  done
}}

{classify}

__wr_escape() {{  # REPLY = $1 as a JSON string body; fails on bytes this cannot escape
  local s=$1 LC_ALL=C
  [[ $s == $__wr_bad ]] && return 1
  s=${{s//\\/\\\\}}; s=${{s//\"/\\\"}}; s=${{s//$'\n'/\\n}}; s=${{s//$'\t'/\\t}}; s=${{s//$'\r'/\\r}}
  REPLY=$s
}}

__wr_append() {{  # one audit line, one write(2) on an O_APPEND descriptor
  local TZ=UTC0 t
  printf -v t '%(%Y-%m-%dT%H:%M:%S)T' "${{EPOCHREALTIME%[.,]*}}"
  printf '%s\n' "{{\"time\":\"$t.${{EPOCHREALTIME#*[.,]}}Z\",$1}}" 2>/dev/null >>"$__wr_log"
}}

__wr_run() {{
  trap 'kill -TERM "$__wr_pid" 2>/dev/null' TERM
  trap 'kill -HUP "$__wr_pid" 2>/dev/null' HUP
  trap ':' INT QUIT
{exports}
  if {{ : <&0; }} 2>/dev/null; then
    env --default-signal=INT,QUIT "$__wr_real" "$@" <&0 &
  else
    env --default-signal=INT,QUIT "$__wr_real" "$@" &
  fi
  __wr_pid=$!
  while :; do
    wait "$__wr_pid"
    __wr_status=$?
    kill -0 "$__wr_pid" 2>/dev/null || break
  done
}}

[[ -n $__wr_real && -z ${{DOCKER_HOST-}}${{DOCKER_CONTEXT-}}${{DOCKER_CONFIG-}} ]] || __wr_slow "$@"
__wr_classify "$@" || __wr_slow "$@"
__wr_argv="\"$__wr_prog\""
for __wr_a; do
  __wr_escape "$__wr_a" || __wr_slow "$@"
  __wr_argv+=",\"$REPLY\""
done
__wr_escape "$PWD" || __wr_slow "$@"
__wr_id="$__wr_session.$$.${{EPOCHREALTIME//[!0-9]/}}"
__wr_line="\"event\":\"decision\",\"id\":\"$__wr_id\",\"session\":\"$__wr_session\",\"layer\":\"stub\",\"argv\":[$__wr_argv],\"cwd\":\"$REPLY\",\"verdict\":\"allow\",\"rule\":\"$__wr_rule\",\"exit\":null"
((${{#__wr_line}} < 3000)) || __wr_slow "$@"
__wr_append "$__wr_line" || __wr_slow "$@"
__wr_run "$@"
__wr_append "\"event\":\"exit\",\"id\":\"$__wr_id\",\"session\":\"$__wr_session\",\"layer\":\"stub\",\"exit\":$__wr_status"
case $__wr_status in
  130) trap - INT; kill -INT $$ ;;
  143) trap - TERM; kill -TERM $$ ;;
  129) trap - HUP; kill -HUP $$ ;;
esac
exit "$__wr_status"
'''

_SLOW_ONLY = r'''#!/bin/sh
{mark} for {program}, session {session_id}. Generated at session start.
# This machine's bash cannot run the fast path: every call goes to the policy core.
exec {python} -I -m sandbox.cli.stub {session_dir} {program_q} "$@"
'''


def render_stub(session: Session, program: str, policy: Policy, bash: str | None) -> str:
    fields = dict(
        mark=STUB_MARK, program=program, program_q=_q(program), session_id=session.id,
        session_id_q=_q(session.id), session_dir=_q(session.dir), python=_q(session.python),
    )
    if not bash:
        return _SLOW_ONLY.format(**fields)
    exports = "\n".join(f"  export {name}={_q(value)}" for name, value in sorted(session.docker_env.items()))
    return _TEMPLATE.format(
        **fields, bash=bash, real=_q(session.real.get(program, "")), audit_log=_q(session.audit_log),
        classify=classify_function(program, policy), exports=exports or "  :",
    )


def write_stubs(session: Session, policy: Policy, programs: list[str], bash: str | None) -> None:
    for program in programs:
        path = session.shim_dir / program
        path.write_text(render_stub(session, program, policy, bash))
        os.chmod(path, 0o755)


def stub_path(session: Session, program: str) -> Path:
    return session.shim_dir / program
