"""A pooled PostgreSQL connection that the server closed while it sat in the pool is replaced at
checkout, with no `SELECT 1` round trip (core/database.py `_closed_by_the_server`): after a
restart of the database and after a connection was terminated (as PgBouncer or an operator
would), the first statement runs on a new connection instead of failing a citizen's turn.
SQLAlchemy's plain pool, on the same server and the same steps, fails that first statement:
the scenario is real and it is the check that saves it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from core.database import make_engine
from core.settings import Settings
from tests.faults.postgres import TemporaryPostgres
from tests.waiting import wait_until

NO_PRE_PING = Settings(database_pool_pre_ping=False, database_pool_size=2)


@pytest.fixture(scope="module")
def postgres() -> Iterator[TemporaryPostgres]:
    reason = TemporaryPostgres.unavailable()
    if reason:
        pytest.fail(f"PostgreSQL is needed for this test: {reason}")
    with TemporaryPostgres() as server:
        yield server


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_restarted_database_costs_no_failed_statement(postgres: TemporaryPostgres) -> None:
    engine = make_engine(postgres.url, NO_PRE_PING)
    plain = create_engine(postgres.url, pool_size=2)  # SQLAlchemy's own pool, no check
    try:
        before, plain_before = _backend(engine), _backend(plain)
        postgres.stop()
        postgres.start()
        after = _backend(engine)  # the first statement after the restart
        assert after != before
        with pytest.raises(OperationalError):
            _backend(plain)
        assert _backend(plain) != plain_before  # SQLAlchemy then discarded the dead ones
    finally:
        engine.dispose()
        plain.dispose()


def test_a_terminated_connection_is_replaced(postgres: TemporaryPostgres) -> None:
    engine = make_engine(postgres.url, NO_PRE_PING)
    admin = create_engine(postgres.url, poolclass=NullPool)
    try:
        pooled = _backend(engine)
        with admin.connect() as connection:
            killed = connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled}
            ).scalar_one()
        assert killed is True

        def gone() -> bool:
            with admin.connect() as connection:
                query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
                return connection.execute(query, {"pid": pooled}).scalar_one() == 0

        wait_until(gone, 10, "the terminated backend to end")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 41 + 1")).scalar_one() == 42
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pooled
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()
        admin.dispose()
