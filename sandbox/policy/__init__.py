"""The policy core. Pure: text in, decision out."""

from .context import Context
from .engine import decide_argv, decide_text
from .profile import Policy, ProfileError
from .verdict import Decision, Finding, Rule, Verdict

__all__ = ["Context", "Decision", "Finding", "Policy", "ProfileError", "Rule", "Verdict", "decide_argv", "decide_text"]
