"""How the session's clients reach its broker: what the stubs and hooks have baked in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BrokerAddress:
    port: int
    secret: str
    # How long a client waits once the broker said `hold` (a human deciding), in seconds.
    long_wait: int = 3600
