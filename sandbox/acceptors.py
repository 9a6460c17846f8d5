"""Threads that wait in accept() and each serve the connection they get, for the guard and the broker."""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable

ACCEPT_RETRY_SECONDS = 0.05


class Acceptors:
    """Threads that each wait in accept() and serve the connection they get themselves.

    No hand-off from an accepting thread to a worker: waking a second thread
    costs more than a docker ping. Whenever the last waiting thread takes a
    connection it first starts another, so a long `logs -f` never makes
    another call wait; finished threads go back to waiting, up to SPARE.
    """

    SPARE = 8

    def __init__(self, listener: socket.socket, handle: Callable[[socket.socket], None],
                 stopped: Callable[[], bool] = lambda: False):
        self.listener = listener
        self.handle = handle
        self.stopped = stopped  # once true, a failed accept ends the thread (the listener was closed)
        self.lock = threading.Lock()
        self.waiting = 0

    def run(self, threads: int = 2) -> None:
        """Serve until stopped: the calling thread is one of the acceptors, and leaves only then."""
        with self.lock:
            self.waiting = threads
        for _ in range(threads - 1):
            threading.Thread(target=self._accept, daemon=True).start()
        self._accept(forever=True)

    def _accept(self, forever: bool = False) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except InterruptedError:
                continue
            except OSError:
                if self.stopped():
                    return
                time.sleep(ACCEPT_RETRY_SECONDS)  # out of descriptors or memory for a moment: the count stays right
                continue
            with self.lock:
                self.waiting -= 1
                spawn = self.waiting == 0
                if spawn:
                    self.waiting += 1  # counted from now: the new thread will be waiting
            if spawn:
                try:
                    threading.Thread(target=self._accept, daemon=True).start()
                except RuntimeError:  # no thread to be had: this one goes back to waiting after this call
                    with self.lock:
                        self.waiting -= 1
            try:
                self.handle(client)
            except Exception:  # noqa: BLE001 - a connection's failure is its own
                pass
            with self.lock:
                if self.waiting >= self.SPARE and not forever:
                    return
                self.waiting += 1
