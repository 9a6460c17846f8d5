"""Write the session's PATH stubs, which ask the broker about every call.

The compiled stub (stub.c, built by compiled.py) where there is one: a copy of
the binary per program, and its settings beside it. Otherwise a bash script
per program: stub.bash with the session's values filled in.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from ..broker.address import BrokerAddress
from ..policy.context import DAEMON_VARIABLES
from ..session.layout import STUB_MARK, stub_settings
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


def compiled_settings(session: Session, program: str, broker: BrokerAddress) -> bytes:
    """A compiled stub's settings: NUL-terminated fields, in the order stub.c reads them."""
    fields = [f"{STUB_MARK} for {program}, session {session.id}. Generated at session start.",
              session.real.get(program, ""), program, session.id, broker.secret, str(broker.port),
              str(broker.long_wait), " ".join(DAEMON_VARIABLES),
              *(f"{name}={value}" for name, value in sorted(session.docker_env.items()))]
    if any("\0" in field for field in fields):
        raise ValueError("a stub setting holds a NUL byte")
    return b"".join(field.encode("utf-8", "surrogateescape") + b"\0" for field in fields)


def write_compiled_stub(directory: Path, binary: Path, session: Session, program: str,
                        broker: BrokerAddress) -> Path:
    settings = directory / stub_settings(program)
    settings.write_bytes(compiled_settings(session, program, broker))
    os.chmod(settings, 0o600)
    stub = directory / program
    shutil.copyfile(binary, stub)  # a copy: the session's stub cannot change with the cache
    os.chmod(stub, 0o755)
    return stub


def write_stubs(session: Session, programs: list[str], bash: str, broker: BrokerAddress,
                compiled: Path | None = None) -> None:
    for program in programs:
        if compiled is not None:
            write_compiled_stub(session.shim_dir, compiled, session, program, broker)
            continue
        path = session.shim_dir / program
        path.write_text(render_stub(session, program, bash, broker))
        os.chmod(path, 0o755)
