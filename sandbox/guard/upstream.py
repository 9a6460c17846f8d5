"""Connections to the daemon, with one made ahead of time so that a call does not wait for the connect.

Connecting wakes the daemon, which on a busy machine takes the CPU from the
guard in the middle of a call. The spare is made after a call has been
answered, off the path of the next one. Nothing is ever sent on it before a
request is let through. A spare the daemon has closed, or one old enough
that the daemon may time it out, is dropped, and the call connects itself.
"""

from __future__ import annotations

import socket
import threading
import time

SPARE_SECONDS = 20.0  # well inside any header timeout a daemon sets on fresh connections


class Dialer:
    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()
        self.spare: socket.socket | None = None
        self.made = 0.0

    def connect(self) -> socket.socket:
        """A connection to the daemon, ready for a request. Raises OSError when the daemon cannot be reached."""
        with self.lock:
            spare, made, self.spare = self.spare, self.made, None
        if spare is not None:
            if time.monotonic() - made < SPARE_SECONDS and _open(spare):
                return spare
            spare.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        return sock

    def refill(self) -> None:
        """Make the spare if there is none (called between calls; a failure waits for the next call)."""
        if self.spare is not None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            return
        with self.lock:
            if self.spare is None:
                self.spare, self.made, sock = sock, time.monotonic(), None
        if sock is not None:
            sock.close()


def _open(sock: socket.socket) -> bool:
    """The daemon has neither closed the connection nor sent anything on it."""
    try:
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        return False  # an end of file, or bytes nobody asked for
    except BlockingIOError:
        return True
    except OSError:
        return False
