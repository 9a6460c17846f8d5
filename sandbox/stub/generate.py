"""Write the session's PATH stubs: small bash scripts with a generated fast path.

The fast path answers `allow` for commands the profile allows outright,
from tables generated out of the docker grammar and the profile; the broker
judges them again and records them. Anything it does not recognise to the
letter (other options, -H, --context, a set DOCKER_HOST, a verdict other than
allow) goes to the broker's policy core, which is the authority. The fast
path can only ever say less than the core. The stub's bash lives in stub.bash.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from ..policy.packs.docker import RULES as DOCKER_RULES
from ..policy.packs.docker_grammar import (
    COMPOSE_COMMANDS, COMPOSE_FLAG_OPTIONS, COMPOSE_VALUE_OPTIONS, DOCKER_FLAG_OPTIONS,
    DOCKER_VALUE_OPTIONS, GROUPS, HOST_OPTIONS, CONTEXT_OPTIONS, SHORTCUTS, SINGLES,
)
from ..policy.profile import Policy
from ..policy.verdict import Verdict
from ..policy.context import DAEMON_VARIABLES
from ..session.layout import STUB_MARK
from ..session.record import Session
from ..broker.address import BrokerAddress

# Arguments that turn an allowed compose command into a risky one: the fast
# path defers when one of them may be present (over-deferring is harmless).
ARG_SENSITIVE = {
    "compose.up": "--renew-anon-volumes*|-V*|-[!-]*V*",
    "compose.down": "--volumes*|--rmi*|-v*|-[!-]*v*",
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
        if sensitive:
            lines.append(f"{indent}  {sub})")
            lines.append(f'{indent}    for a in "${{@:i+1}}"; do')
            lines.append(f"{indent}      case $a in --) break ;; {sensitive}) return 1 ;; esac")
            lines.append(f"{indent}    done")
            lines.append(f"{indent}    __wr_rule={rule} ;;")
        else:
            lines.append(f"{indent}  {sub}) __wr_rule={rule} ;;")
    lines.append(f"{indent}  *) return 1 ;;")
    lines.append(f"{indent}esac")
    return lines


# Groups the fast path knows; commands of the others (swarm, plugin...) go to the core.
FAST_GROUPS = ("container", "image", "volume", "network", "system")


def _docker_arms(policy: Policy) -> dict[str, list[str]]:
    """rule id -> the words (\"ps\", \"container ls\") that name it, for allowed rules."""
    arms: dict[str, list[str]] = {}
    for word, (group, sub) in sorted(SHORTCUTS.items()):
        if rule := _allowed(policy, f"{group}.{sub}"):
            arms.setdefault(rule, []).append(word)
    for word in sorted(SINGLES):
        if rule := _allowed(policy, word):
            arms.setdefault(rule, []).append(word)
    for group in FAST_GROUPS:
        for alias, canonical in sorted(GROUPS[group].items()):
            if rule := _allowed(policy, f"{group}.{canonical}"):
                arms.setdefault(rule, []).append(f"'{group} {alias}'")
    return arms


def compose_function(policy: Policy) -> str:
    """Bash source of __wr_classify_compose INDEX WORDS...: compose's part of the classifier."""
    lines = ["__wr_classify_compose() {", "  local i=$1 a", "  shift"]
    lines += _compose_arms(policy, "  ")
    lines.append("}")
    return "\n".join(lines)


def classify_function(program: str, policy: Policy, compose_file: str | None = None) -> str:
    """Bash source of __wr_classify: sets __wr_rule and returns 0 when the command is allowed.

    compose_file: where compose's part lives, read only for `docker compose`
    (bash parses the stub on every call); without it, that part is inline.
    """
    if not policy.pack_enabled("docker"):
        return "__wr_classify() { __wr_rule=none; }"
    if program != "docker" and program != "docker-compose":
        return "__wr_classify() { return 1; }"  # podman and others: the core decides
    # --help anywhere turns a command into docker.help in the core: leave those to it.
    lines = ["__wr_classify() {", "  local i=1 w", '  [[ " $* " != *" --help "* ]] || return 1']
    if program == "docker-compose":
        lines += ["  __wr_classify_compose 1 \"$@\"", "}", compose_function(policy)]
        return "\n".join(lines)
    lines += _globals_loop(DOCKER_VALUE_OPTIONS, DOCKER_FLAG_OPTIONS, "  ")
    lines.append("  w=${!i}")
    lines.append("  if [[ $w == compose ]]; then")
    if compose_file:
        lines.append(f"    \\builtin source {_q(compose_file)} || return 1")
    lines.append('    __wr_classify_compose "$((i + 1))" "$@"')
    lines.append("    return")
    lines.append("  fi")
    lines.append(f"  case $w in {'|'.join(FAST_GROUPS)}) ((i += 1)); w=\"$w ${{!i}}\" ;; esac")
    lines.append("  case $w in")
    for rule, words in sorted(_docker_arms(policy).items()):
        lines.append(f"    {'|'.join(words)}) __wr_rule={rule} ;;")
    lines.append("    *) return 1 ;;")
    lines.append("  esac")
    lines.append("}")
    if not compose_file:
        lines.append(compose_function(policy))
    return "\n".join(lines)


TEMPLATE = Path(__file__).with_name("stub.bash")
# The template's own comments and header stay out of every stub: bash parses a stub on every call.
_TEMPLATE_BODY_START = "@MARK@"


def render_stub(session: Session, program: str, policy: Policy, bash: str, broker: BrokerAddress) -> str:
    text = TEMPLATE.read_text()
    text = f"#!{bash} -p\n" + text[text.index(_TEMPLATE_BODY_START):]
    exports = "\n".join(f"  export {name}={_q(value)}" for name, value in sorted(session.docker_env.items()))
    compose_file = str(compose_classifier_path(session)) if program == "docker" else None
    raw = {
        "MARK": STUB_MARK, "PROGRAM_TEXT": program, "SESSION_TEXT": session.id,
        "DAEMON_VARIABLES": " ".join(DAEMON_VARIABLES), "EXPORTS": exports or "  :",
        # Empty when none of them is set: the fast path's one test for all of them.
        "DAEMON_VALUES": "".join(f"${name}" for name in DAEMON_VARIABLES),
        "CLASSIFY": classify_function(program, policy, compose_file),
    }
    quoted = {
        "REAL": session.real.get(program, ""), "PROGRAM": program, "SESSION": session.id,
        "PORT": str(broker.port), "SECRET": broker.secret, "LONG_WAIT": str(broker.long_wait),
    }
    for name, value in quoted.items():
        text = text.replace(f"@{name}@", _q(value))
    for name, value in raw.items():
        text = text.replace(f"@{name}@", value)
    return text


def compose_classifier_path(session: Session) -> Path:
    return session.path / "compose-classifier.bash"


def write_stubs(session: Session, policy: Policy, programs: list[str], bash: str, broker: BrokerAddress) -> None:
    compose_classifier_path(session).write_text(compose_function(policy) + "\n")
    for program in programs:
        path = session.shim_dir / program
        path.write_text(render_stub(session, program, policy, bash, broker))
        os.chmod(path, 0o755)
