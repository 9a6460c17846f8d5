"""Approvals held by running processes: one decision per action, across layers.

When the stub runs a docker command a human approved, the API calls that
command makes reach the guard; they pass for the approved rules, and for the
calls those rules are made of (guard.mapping.COVERED_BY: a system prune is
five prunes, a compose down stops and removes containers, networks and
volumes, which the CLI names by id), while that process runs. Pids are as
the session's processes see them.
"""

from __future__ import annotations

import threading

from ..guard.mapping import COVERED_BY


class ProcessGrants:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_pid: dict[int, tuple[str, frozenset[str]]] = {}

    def add(self, pid: int, event_id: str, rules: set[str]) -> None:
        if pid > 0:
            with self._lock:
                self._by_pid[pid] = (event_id, frozenset(rules))

    def end(self, pid: int, event_id: str) -> None:
        with self._lock:
            held = self._by_pid.get(pid)
            if held and held[0] == event_id:
                del self._by_pid[pid]

    def covers(self, pids: list[int], rule: str) -> str | None:
        """The event id of the approval that covers this rule for one of these processes, else None."""
        with self._lock:
            for pid in pids:
                held = self._by_pid.get(pid)
                if held and _covers(held[1], rule):
                    return held[0]
        return None


def _covers(approved: frozenset[str], rule: str) -> bool:
    return rule in approved or any(whole in approved for whole in COVERED_BY.get(rule, ()))
