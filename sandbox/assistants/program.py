"""The assistant hook program: a few lines of bash that ask the session's broker and print its answer.

No Python starts per call: bash reads the payload, sends it over /dev/tcp to
the broker's loopback port with NUL-terminated fields, and copies the answer
out. A broker that does not answer within 2 s (or breaks off) gets a refusal
in the assistant's own format and the blocking exit status: fail closed.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from ..session.layout import BROKER_PORT, BROKER_SECRET, HOOKS_DIR
from .formats import FORMATS

PROGRAM_NAME = "assistant-hook"

TEMPLATE = r"""#!@BASH@ -p
# wingman-run: @TITLE@'s pre-execution hook for session @SESSION@. Generated at session start.
# -p: no BASH_ENV, no functions from the environment; every builtin called as \builtin.
__wr_dir=@DIR@
__wr_name=@NAME@
__wr_long=@LONG@
__wr_fail() {
  \builtin printf '%s' @FAIL_OUT@
  \builtin printf '%s\n' @FAIL_TEXT@ "  ($1)" >&2
  \builtin exit @FAIL_STATUS@
}
IFS= \builtin read -r -d '' __wr_payload
IFS= \builtin read -r __wr_port <"$__wr_dir/@PORT_FILE@" 2>/dev/null || __wr_fail "no broker port file"
IFS= \builtin read -r __wr_secret <"$__wr_dir/@SECRET_FILE@" 2>/dev/null || __wr_fail "no broker secret file"
\builtin exec {__wr_fd}<>"/dev/tcp/127.0.0.1/$__wr_port" 2>/dev/null || __wr_fail "the broker does not accept connections"
\builtin printf '%s\0' "$__wr_secret" assistant 3 "$__wr_name" "$PWD" "$__wr_payload" >&"$__wr_fd" 2>/dev/null \
  || __wr_fail "the request could not be sent"
__wr_wait=2
while :; do
  IFS= \builtin read -r -d '' -t "$__wr_wait" -u "$__wr_fd" __wr_kind || __wr_fail "no answer from the broker"
  IFS= \builtin read -r -d '' -t "$__wr_wait" -u "$__wr_fd" __wr_value || __wr_fail "the broker broke off its answer"
  case $__wr_kind in
    out) \builtin printf '%s' "$__wr_value" ;;
    err) \builtin printf '%s' "$__wr_value" >&2 ;;
    hold) __wr_wait=$__wr_long ;;
    exit) \builtin exit "$__wr_value" ;;
  esac
done
"""


def failure_text(session) -> str:
    return (f"wingman-run: refused: the guard of session {session.id} does not answer, so no command runs. "
            "The wingman-run that started this assistant has ended or hangs: quit the assistant and start it "
            "again with wingman-run.")


def render(session, name: str, bash: str, long_wait: int) -> str:
    fmt = FORMATS[name]
    text = failure_text(session)
    out, status = fmt.failure(text)
    values = {
        "BASH": bash, "TITLE": fmt.title, "SESSION": session.id, "DIR": shlex.quote(session.dir),
        "NAME": name, "LONG": str(int(long_wait)), "FAIL_OUT": shlex.quote(out), "FAIL_TEXT": shlex.quote(text),
        "FAIL_STATUS": str(status), "PORT_FILE": BROKER_PORT, "SECRET_FILE": BROKER_SECRET,
    }
    program = TEMPLATE
    for key, value in values.items():
        program = program.replace(f"@{key}@", value)
    return program


def write_program(session, name: str, bash: str, long_wait: int) -> Path:
    directory = Path(session.dir) / HOOKS_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / PROGRAM_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(session, name, bash, long_wait))
    os.chmod(tmp, 0o755)
    tmp.replace(path)
    return path
