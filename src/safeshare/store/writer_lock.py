"""One writer at a time on a SQLite store, queued without polling.

SQLite serialises writers itself (every writing transaction begins with ``BEGIN IMMEDIATE``),
but a writer that finds the lock taken sleeps and retries (its busy handler), in steps that
grow to 100 ms: under load the waits, not the work, make the slow requests. Writers of one
store therefore first take this lock — a thread lock within the process and an exclusive
``flock`` on a file beside the database across the server's worker processes — so that they
queue and wake as soon as the lock is free. SQLite's own lock stays the guarantee: a writer
that does not take this lock (a migration, another tool) is still serialised by the database.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriterLock:
    """Re-entrant within a thread; exclusive across threads and processes."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + "-writer.lock")
        self._thread_lock = threading.RLock()
        self._fd: int | None = None
        self._depth = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth == 0:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
