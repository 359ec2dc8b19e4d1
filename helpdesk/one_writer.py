"""One help-desk write transaction at a time per process on SQLite, handed over at once.

SQLite has a single write lock. A writer that finds it taken sleeps in SQLite's busy handler
(1, 2, 5 … then 100 ms between tries), and newer writers may take the lock first, so with
50 citizens and 5 staff writing, one staff answer waited over 2 s for it (issue 13,
`bench.handover_bench --steps`). The help desk's write transactions in one process queue
on a lock of their own instead and each starts the moment the previous one ends. Other
processes (the action server) still meet SQLite's own lock, and a server database
(PostgreSQL) locks rows, so there this does nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from core.settings import get_settings

_locks: dict[str, threading.Lock] = {}
_making = threading.Lock()


@contextlib.contextmanager
def one_writer(database_url: str | None) -> Iterator[None]:
    """Hold around a whole help-desk write transaction (never nested: the lock is not re-entrant)."""
    url = database_url or get_settings().sqlalchemy_url
    if not url.startswith("sqlite"):
        yield
        return
    with _making:
        lock = _locks.setdefault(url, threading.Lock())
    with lock:
        yield
