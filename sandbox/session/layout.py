"""Every file name in a session directory, in one place.

    SESSION_DIR/
      session.json              the session record (profile, daemon, real binaries)
      bin/                      the PATH stubs (docker, docker-compose, podman)
      bin/.NAME.stub            a compiled stub's settings (port, secret, the real binary...)
      hooks/wingman.bash        the bash hook; hooks/zsh/ is the session's ZDOTDIR
      broker.sock               the broker's Unix socket (Python clients, the guard)
      broker.port               the broker's loopback port (bash and zsh clients)
      broker.secret             the secret every client sends first (0600)
      docker.sock               the Docker API guard's socket
      approvals.json            Wingman's URL and keys (0600)
      approvals.jsonl           every approval request of the session
      approval-grants.json      approvals not yet used up (and its .lock)
      homes/NAME/               an assistant's session home (Gemini CLI, Cursor agent): writable
                                inside isolation, except the files the launcher wrote there
"""

from __future__ import annotations

SESSION_FILE = "session.json"
STUBS_DIR = "bin"
HOOKS_DIR = "hooks"
BROKER_SOCKET = "broker.sock"
BROKER_PORT = "broker.port"
BROKER_SECRET = "broker.secret"
GUARD_SOCKET = "docker.sock"
APPROVAL_SETTINGS = "approvals.json"
APPROVAL_LEDGER = "approvals.jsonl"
APPROVAL_GRANTS = "approval-grants.json"
APPROVAL_GRANTS_LOCK = "approval-grants.lock"
HOMES_DIR = "homes"

# The first line of every bash stub, and the first field of a compiled stub's settings:
# how a nested session tells a stub from a real binary.
STUB_MARK = "# wingman-run stub"


def stub_settings(program: str) -> str:
    """The file beside a compiled stub that holds its settings."""
    return f".{program}.stub"
