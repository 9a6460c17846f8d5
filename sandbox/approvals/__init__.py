"""Ask means ask: send held commands to Wingman, wait for a human, run exactly what was approved.

- config: where Wingman is and which keys to send (read by the launcher, outside the session)
- instruction: the request text, in Wingman's ten sections (pure)
- targets: the objects a command touches, as the daemon names them
- client: Wingman's approval API over HTTP
- wait: file the request and wait for the decision (display: what the user sees meanwhile)
- grants: hand an approval from one layer to the next, once
- ledger: this session's requests, for `wingman-sandbox approvals`
- gate: all of the above in one call for a layer that says `ask`
"""

from .config import ApprovalConfigError, WingmanSettings, load_settings, read_settings, save_settings
from .request import ask
from .instruction import ApprovalSubject, Target, build_instruction, task_name, worker_id
from .wait import Outcome, request_approval

__all__ = [
    "ApprovalConfigError", "ApprovalSubject", "Outcome", "Target", "WingmanSettings", "ask", "build_instruction",
    "load_settings", "read_settings", "request_approval", "save_settings", "task_name", "worker_id",
]
