"""Every SQLite connection is set up for several writers (issue 13: the help desk's slow tail
was writers queueing for SQLite's one write lock): write-ahead log, synchronous=NORMAL (a
commit does not wait for an fsync, so the lock is held briefly) and a busy timeout."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from core.database import make_engine

SYNCHRONOUS_NORMAL = 1  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_every_sqlite_connection_uses_wal_normal_sync_foreign_keys_and_a_busy_timeout(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        # Two connections open at once, so both come from the pool's connect hook.
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(text("PRAGMA synchronous")).scalar() == SYNCHRONOUS_NORMAL
                assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
