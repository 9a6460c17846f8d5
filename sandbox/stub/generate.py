"""Write the session's PATH stubs: small bash scripts that ask the broker about every call.

The stub's bash lives in stub.bash; this fills in the session's values.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from ..broker.address import BrokerAddress
from ..policy.context import DAEMON_VARIABLES
from ..session.layout import STUB_MARK
from ..session.record import Session

TEMPLATE = Path(__file__).with_name("stub.bash")
_TEMPLATE_BODY_START = "@MARK@"


def _q(value: str) -> str:
    return shlex.quote(value)


def _template_body() -> str:
    """The template from its mark on, without comment lines or blank lines.

    bash lexes every byte of a stub on every call; the comments are for the
    template's readers.
    """
    text = TEMPLATE.read_text()
    lines = text[text.index(_TEMPLATE_BODY_START):].splitlines()
    return "\n".join(line for line in lines if line.strip() and not line.lstrip().startswith("#")) + "\n"


def render_stub(session: Session, program: str, bash: str, broker: BrokerAddress) -> str:
    text = f"#!{bash} -p\n" + _template_body()
    exports = "\n".join(f"  export {name}={_q(value)}" for name, value in sorted(session.docker_env.items()))
    raw = {
        "MARK": STUB_MARK, "PROGRAM_TEXT": program, "SESSION_TEXT": session.id,
        "DAEMON_VARIABLES": " ".join(DAEMON_VARIABLES), "EXPORTS": exports or "  :",
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


def write_stubs(session: Session, programs: list[str], bash: str, broker: BrokerAddress) -> None:
    for program in programs:
        path = session.shim_dir / program
        path.write_text(render_stub(session, program, bash, broker))
        os.chmod(path, 0o755)
