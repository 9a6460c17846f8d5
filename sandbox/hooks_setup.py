"""Arm the bash and zsh hooks for every shell the session starts."""

from __future__ import annotations


def arm_shell_hooks(session, env: dict, environ) -> None:
    return None
