"""Start the session's broker: the launcher calls this once, before anything in the session runs."""

from __future__ import annotations

from ..session.record import Session
from .address import BrokerAddress
from .server import BrokerServer
from .verbs import Broker

# A client waits this much longer than an approval may take before it gives up on the broker.
HOLD_MARGIN_SECONDS = 60


def start_broker(session: Session, approval_timeout: float) -> tuple[BrokerServer, BrokerAddress]:
    broker = Broker(session)
    server = BrokerServer(session.path, broker.handle)
    server.guard_token = broker.guard_token  # for the guard's start, never written to the session
    server.start()
    return server, BrokerAddress(server.port, server.secret, int(approval_timeout) + HOLD_MARGIN_SECONDS)
