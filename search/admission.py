"""How many searches one process runs at once.

Searching is Python work under one interpreter lock, with many short reads that let go of
it. Several searches at once take turns at the lock after every read, and each turn costs
more than the read: on the 24k Reuters index, eight threads searching together answered
110 queries/s and one thread alone 200 (scripts/bench_search.py's query log). So
searches queue for a turn, and the server's threads that are not waiting for one answer
everything else (static files, health checks, sending answers); with more searches
waiting than threads, those queue too. A search that waits too long for a turn is told
the server is busy. A CSV export's rows are read after its turn, as they are sent. More
cores are used by more processes (web/server.py).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from search.errors import Busy


class Turns:
    """At most ``concurrent`` searches at once, in the order they asked; a thread already
    searching (a search that calls another) goes on without a second turn.

    A freed turn is handed to the search that has waited longest. With a plain semaphore
    the thread that freed it took it again for its next request before the woken waiter
    ran: on the 1M index, 6 of 1,286 requests under 20 clients waited 30 s and were told
    the server was busy, while the p99 was 2 s."""

    def __init__(self, concurrent: int, wait_seconds: float) -> None:
        if concurrent < 1:
            raise ValueError("concurrent searches must be at least 1")
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._free = concurrent
        self._waiting: deque[threading.Lock] = deque()
        self._held = threading.local()

    @contextmanager
    def turn(self) -> Iterator[None]:
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        if not self._take():
            raise Busy(
                f"The server is busy: no search could start within {self.wait_seconds:g} s. "
                "Try again in a moment."
            )
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            self._give_back()

    def _take(self) -> bool:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiting.append(gate)
        try:
            if gate.acquire(timeout=self.wait_seconds):
                return True  # handed over by _give_back
        except BaseException:
            if not self._leave(gate):
                self._give_back()  # handed over all the same: pass it on
            raise
        return not self._leave(gate)  # or handed over between the timeout and the lock

    def _leave(self, gate: threading.Lock) -> bool:
        """Takes ``gate`` out of the queue; False if it was handed a turn first."""
        with self._lock:
            if gate in self._waiting:
                self._waiting.remove(gate)
                return True
        return False

    def _give_back(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1
