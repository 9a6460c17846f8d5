"""Read the approval service's settings outside the session, before the environment is scrubbed.

The keys end up in one 0600 file in the session's private directory, which
the stub and hooks read; they never reach the session's environment.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .config import ApprovalConfigError, WingmanSettings, load_settings, read_settings, save_settings
from ..session.profiles import ResolvedProfile, user_config_dir

from ..session.layout import APPROVAL_SETTINGS as SETTINGS_FILE


@dataclass(frozen=True)
class PreparedApprovals:
    settings: WingmanSettings

    def save(self, session) -> None:
        save_settings(Path(session.dir) / SETTINGS_FILE, self.settings)


def prepare_approvals(profile: ResolvedProfile, environ) -> PreparedApprovals | None:
    """The session's approval settings, None when none is configured; exits 2 when they are broken."""
    try:
        settings = load_settings(profile.approvals, environ, user_config_dir())
    except ApprovalConfigError as exc:
        sys.stderr.write(f"wingman-run: approval setup: {exc}\nNothing was started.\n")
        raise SystemExit(2)
    return PreparedApprovals(settings) if settings else None


def session_settings(session_dir: Path) -> WingmanSettings | None:
    """The settings recorded for a session; raises ApprovalConfigError when the file is unusable."""
    path = Path(session_dir) / SETTINGS_FILE
    if not path.exists():
        return None
    return read_settings(path)
