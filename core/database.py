"""The one database engine and session factory, and schema upgrades through Alembic."""

from __future__ import annotations

import logging
import select
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from core.settings import REPOSITORY_ROOT, Settings, get_settings

logger = logging.getLogger(__name__)

# Every package that owns tables keeps its migrations in its own folder, as an Alembic branch.
MIGRATION_LOCATIONS = [
    REPOSITORY_ROOT / "core" / "migrations" / "versions",
    REPOSITORY_ROOT / "knowledge" / "migrations",
    REPOSITORY_ROOT / "citizens" / "migrations",
    REPOSITORY_ROOT / "staff" / "migrations",
    REPOSITORY_ROOT / "helpdesk" / "migrations",
]


class Base(DeclarativeBase):
    """Declarative base shared by every package's models."""


def created_within(
    query: Select[Any],
    created_at: ColumnElement[datetime],
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    """`query` kept to rows created in [since, until); an open end where None (the staff
    console's date ranges)."""
    if since is not None:
        query = query.where(created_at >= since)
    if until is not None:
        query = query.where(created_at < until)
    return query


def make_engine(url: str, settings: Settings | None = None) -> Engine:
    """Create an engine; SQLite gets WAL, synchronous=NORMAL, foreign keys, a busy timeout
    because several processes share it, and real transactions (`_sqlite_transactions`); a
    server database gets the pool the settings ask for (many replicas share its connections)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit cannot
            # corrupt the file, only the last ones may be lost on power failure, and the one
            # writer's lock is held for microseconds instead of an fsync (issue 13's tail).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # sqlite3 stops beginning transactions itself; _begin_before_first_write does.
            dbapi_connection.isolation_level = None

        event.listen(engine, "before_cursor_execute", _begin_before_first_write)
        return engine
    settings = settings or get_settings()
    engine = create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        pool_recycle=settings.database_pool_recycle_seconds,
        pool_pre_ping=settings.database_pool_pre_ping,
    )
    event.listen(engine, "checkout", _closed_by_the_server)
    return engine


def _closed_by_the_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Replace a pooled connection the server closed while it sat in the pool, without a round
    trip: a restarted PostgreSQL (or PgBouncer, or a firewall's reset) sends its goodbye and
    closes, so an idle connection's socket becomes readable. Only a dead or notified
    connection has input waiting between two statements; SQLAlchemy's `pool_pre_ping` finds
    the same with a `SELECT 1` at every checkout (a round trip and the server's time; 0.07 ms
    of CPU a checkout on this machine, docs/sizing.md). DisconnectionError makes the pool
    discard it and check out another (a new one if need be)."""
    if getattr(dbapi_connection, "closed", False):  # psycopg2: nonzero once it knows
        raise DisconnectionError("the pooled connection was closed")
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:  # a driver without a socket to look at: the statement will tell
        return
    try:
        waiting = select.poll()
        waiting.register(fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        if waiting.poll(0):
            raise DisconnectionError("the server closed the pooled connection")
    except (OSError, ValueError) as error:  # its socket is gone
        raise DisconnectionError(f"the pooled connection's socket is gone: {error}") from None


# Statements that begin no transaction: reads (before a transaction's first write they run on
# their own, as with sqlite3), those SQLite refuses inside one, and transaction control itself.
_SQLITE_NO_BEGIN = frozenset(
    {"SELECT", "PRAGMA", "EXPLAIN", "VALUES", "VACUUM", "ATTACH", "DETACH"}
    | {"BEGIN", "COMMIT", "END", "ROLLBACK", "RELEASE"}
)


def _begin_before_first_write(  # type: ignore[no-untyped-def]
    connection, _cursor, statement: str, _parameters, _context, _executemany
) -> None:
    """Begin the SQLite transaction before a transaction's first write, SAVEPOINT or DDL
    statement (`The database and its transactions` in docs/development.md).

    Python 3.11's sqlite3 (legacy transaction control) begins only before INSERT, UPDATE,
    DELETE and REPLACE: a SAVEPOINT outside a transaction became a transaction of its own that
    its RELEASE committed (the outer rollback was lost), and DDL committed statement by
    statement. SQLAlchemy's recipe turns that off (isolation_level None, set on connect) and
    emits BEGIN itself. Its plain BEGIN at the first statement would make a transaction that
    read first take the write lock only at its first write, and SQLite refuses that upgrade
    at once ("database is locked", without the busy timeout) when another connection writes
    or has written since the read. So reads before the first write run on their own, as with
    sqlite3; a write or DDL statement begins with BEGIN IMMEDIATE (the write lock for the whole
    transaction, waited for up to the busy timeout), and a SAVEPOINT with a deferred BEGIN, as
    SQLite's own SAVEPOINT outside a transaction did, so a savepoint around reads (the help
    desk's stored_events) does not queue behind writers."""
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None or dbapi_connection.in_transaction:
        return
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    words = statement.split(None, 1)
    first = words[0].upper() if words else "SELECT"
    if first == "SAVEPOINT":
        dbapi_connection.execute("BEGIN")
    elif first not in _SQLITE_NO_BEGIN:
        dbapi_connection.execute("BEGIN IMMEDIATE")


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url` (default: the settings' database)."""
    return make_engine(url or get_settings().sqlalchemy_url)


@lru_cache(maxsize=4)
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = _session_factory(url or get_settings().sqlalchemy_url)()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(REPOSITORY_ROOT / "core" / "migrations"))
    config.set_main_option("version_locations", " ".join(str(path) for path in MIGRATION_LOCATIONS))
    config.set_main_option("path_separator", "space")
    config.attributes["database_url"] = url
    return config


def upgrade_database(url: str | None = None) -> None:
    """Apply every pending migration of every package (`alembic upgrade heads`)."""
    from alembic import command

    url = url or get_settings().sqlalchemy_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with _alembic_quiet_unless_debug():
        command.upgrade(_alembic_config(url), "heads")
    logger.debug("database schema is up to date")


@contextmanager
def _alembic_quiet_unless_debug() -> Iterator[None]:
    """Alembic logs "Context impl SQLiteImpl." and every migration at INFO on each command;
    an operator sees those lines only with LEARNCITY_LOG_LEVEL=DEBUG (or `learncity -v`)."""
    alembic_logger = logging.getLogger("alembic")
    debugging = (
        get_settings().learncity_log_level.upper() == "DEBUG"
        or logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    )
    previous = alembic_logger.level
    if not debugging:
        alembic_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic_logger.setLevel(previous)
