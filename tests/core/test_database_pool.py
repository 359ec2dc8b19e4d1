"""The connection pool settings (DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW, …) on real PostgreSQL:
they reach the engine every session uses, a pool of two serves ten parallel users without an
error and never opens a third connection, and a bad value stops start-up naming the setting."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

import citizens
from core.database import get_engine, make_engine, session_scope, upgrade_database
from core.settings import Settings, get_settings

postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def pool_of_two(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[str]:
    """The process's settings say: two pooled connections, no overflow; yields a database URL
    whose connections PostgreSQL can tell apart (its own application_name)."""
    name = f"pooltest-{uuid.uuid4().hex[:8]}"
    url = f"{database_url}&application_name={name}"
    for key, value in {
        "DATABASE_URL": url,
        "DATABASE_POOL_SIZE": "2",
        "DATABASE_MAX_OVERFLOW": "0",
        "DATABASE_POOL_TIMEOUT_SECONDS": "30",
        "DATABASE_POOL_RECYCLE_SECONDS": "600",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        yield url
    finally:
        get_engine(url).dispose()
        get_engine.cache_clear()
        get_settings.cache_clear()


def _connections_named(admin_url: str, url: str) -> int:
    name = url.rsplit("application_name=", 1)[1]
    engine = create_engine(admin_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": name},
                )
                or 0
            )
    finally:
        engine.dispose()


@postgresql_only
def test_ten_parallel_users_share_a_pool_of_two_without_failing(
    pool_of_two: str, database_url: str
) -> None:
    upgrade_database(pool_of_two)
    most_open = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal most_open
        while not done.is_set():
            most_open = max(most_open, _connections_named(database_url, pool_of_two))
            time.sleep(0.05)

    def citizen_turn(number: int) -> str | None:
        """What a turn does with the database: write the citizen's record, read it back, and
        hold the connection a moment (a slow query) so the ten really overlap."""
        sender = f"web:pool-{number}"
        with session_scope() as session:
            citizens.subscribe_events(session, sender, topic="festival", consent=True)
            session.execute(text("SELECT pg_sleep(0.2)"))
        with session_scope() as session:
            return citizens.get_language(session, sender) or sender

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(citizen_turn, range(10)))
    finally:
        done.set()
        watcher.join()

    engine = get_engine(pool_of_two)
    assert (engine.pool.size(), engine.pool.checkedout()) == (2, 0)  # type: ignore[attr-defined]
    assert len(answers) == 10
    with session_scope() as session:
        subscribed = citizens.subscribers_for(session, topic="festival", district=None)
    assert sorted(subscribed) == sorted(f"web:pool-{n}" for n in range(10))
    assert 1 <= most_open <= 2, f"{most_open} connections open with DATABASE_POOL_SIZE=2"


@postgresql_only
def test_the_pool_settings_reach_the_engine(pool_of_two: str) -> None:
    """Two connections out and no overflow: a third waits DATABASE_POOL_TIMEOUT_SECONDS, then
    fails; recycle and pre-ping are what the settings say."""
    settings = Settings(database_pool_timeout_seconds=0.5)
    engine = make_engine(pool_of_two, settings)
    try:
        held = [engine.connect(), engine.connect()]
        started = time.monotonic()
        with pytest.raises(PoolTimeoutError):
            engine.connect()
        waited = time.monotonic() - started
        for connection in held:
            connection.close()
        pool = engine.pool
        assert (pool._recycle, pool._pre_ping) == (600, settings.database_pool_pre_ping)  # type: ignore[attr-defined]
        assert 0.4 <= waited < 5, f"waited {waited:.2f} s for a pool timeout of 0.5 s"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("variable", "value"), [("DATABASE_POOL_SIZE", "0"), ("DATABASE_MAX_OVERFLOW", "-1")]
)
def test_a_pool_setting_out_of_range_names_itself(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable):
        Settings()
