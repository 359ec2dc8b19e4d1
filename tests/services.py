"""The real services and tools the tests need, each checked in one place: a missing one FAILS.

A skipped test is not a passed test: when Redis, PostgreSQL, Chromium or the `learncity`
command is missing, the test that needs it fails with a message naming the service, the
address it was looked for at, why it did not answer and how to start it. Use the
`require_*` functions from fixtures (they return something ready to use), e.g.
`client = require_redis()` or `require_executable(CHROMIUM, ...)`.
"""

from __future__ import annotations

import glob
import os
import pwd
import sys
from pathlib import Path
from typing import NoReturn

import pytest
import redis
from sqlalchemy import create_engine, text

REDIS_URL = os.environ.get("LEARNCITY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LEARNCITY_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
CHROMIUM = Path("/usr/bin/chromium")
LEARNCITY = Path(sys.executable).with_name("learncity")

_START_REDIS = (
    "start it with `service redis-server start` (or `redis-server --daemonize yes`), "
    "or point LEARNCITY_TEST_REDIS_URL at one"
)
_START_POSTGRES = (
    "start it with `service postgresql start`; the tests need database `test` with trust "
    "auth for user `postgres`, or point LEARNCITY_TEST_POSTGRES_URL at one"
)


def service_missing(service: str, address: str, reason: str, how_to_start: str) -> NoReturn:
    """Fail the running test: `service` at `address` did not answer (`reason`); say how to fix."""
    message = f"{service} does not answer at {address} ({reason}); {how_to_start}"
    print(f"\nMISSING SERVICE: {message}")
    pytest.fail(message, pytrace=False)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def redis_unavailable(url: str = REDIS_URL) -> str | None:
    """None when Redis answers PING at `url`, else why not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        return None
    except redis.RedisError as error:
        return _first_line(error)
    finally:
        client.close()


def require_redis(url: str = REDIS_URL) -> redis.Redis:
    """A client of the real Redis at `url`; the test fails, saying how to start it, if it is down."""
    reason = redis_unavailable(url)
    if reason is not None:
        service_missing("Redis", url, reason, _START_REDIS)
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def postgres_unavailable(url: str = POSTGRES_URL) -> str | None:
    """None when PostgreSQL answers `SELECT 1` at `url`, else why not."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as error:  # any driver error means "not available here", with its reason
        return _first_line(error)
    finally:
        engine.dispose()


def require_postgres(url: str = POSTGRES_URL) -> str:
    """`url`, once the real PostgreSQL there answers; else the test fails saying how to start it."""
    reason = postgres_unavailable(url)
    if reason is not None:
        service_missing("PostgreSQL", url, reason, _START_POSTGRES)
    return url


def postgres_binaries_unavailable() -> str | None:
    """None when a PostgreSQL server of a test's own can be made here, else why not."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return "no initdb under /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run PostgreSQL as"
    return None


def require_postgres_binaries() -> None:
    """Fail, saying how to install them, when no PostgreSQL server of a test's own can be made."""
    reason = postgres_binaries_unavailable()
    if reason is not None:
        service_missing(
            "PostgreSQL server binaries",
            "/usr/lib/postgresql/*/bin",
            reason,
            "install them with `apt-get install postgresql` (which creates the `postgres` user)",
        )


def require_executable(path: Path, what: str, how_to_get: str) -> Path:
    """`path` when it is an executable file; else the test fails naming it and how to get it."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        service_missing(what, str(path), "no executable there", how_to_get)
    return path


def require_chromium() -> Path:
    """Debian's Chromium, which the browser tests drive."""
    return require_executable(
        CHROMIUM, "Chromium", "`make browser` installs Debian's chromium (as root)"
    )


def require_learncity_command() -> Path:
    """The `learncity` entry point installed next to this Python."""
    return require_executable(
        LEARNCITY, "the learncity command", "`make setup` installs it (`pip install -e .`)"
    )
