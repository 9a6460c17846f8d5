"""Read the approval service's settings outside the session, before the environment is scrubbed."""

from __future__ import annotations


def prepare_approvals(profile, environ):
    return None
