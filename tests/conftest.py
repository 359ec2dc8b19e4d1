"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis and the running assistant.

A service that does not answer fails the test that needs it (tests/services.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

from core.database import upgrade_database
from core.settings import REPOSITORY_ROOT, Settings
from tests.environment import settings_from_environment
from tests.services import (
    POSTGRES_URL,
    REDIS_URL,
    postgres_unavailable,
    redis_unavailable,
    require_postgres,
    require_redis,
)

if TYPE_CHECKING:
    from bot.conversation import Conversation

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED_MODELS_DIR = REPOSITORY_ROOT / ".data" / "models"  # trained models are cached by input hash


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis; the test fails when Redis is down."""
    client = require_redis(REDIS_URL)
    prefix = f"learncity-test:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A local port where every connection is refused for the whole test (for "the server is
    not there"): bound and never listened on, so no other program can start a server there
    meanwhile, as it could on a free port picked and let go."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a temp SQLite file, then a fresh schema on the real PostgreSQL
    (the test fails, saying how to start it, when PostgreSQL does not answer)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    yield from _fresh_postgres_schema()


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A fresh, empty schema on the real PostgreSQL, for what only a database server shows
    (connections closed behind a client's back); fails, saying how to start it, when it is down."""
    yield from _fresh_postgres_schema()


def _fresh_postgres_schema() -> Iterator[str]:
    require_postgres(POSTGRES_URL)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file at the current schema (every migration applied), made once a session."""
    path = tmp_path_factory.mktemp("schema") / "migrated.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def database(tmp_path: Path, migrated_sqlite_template: Path) -> str:
    """A fresh SQLite database of this test's own at the current schema; yields its URL.

    A copy of the session's migrated file: the same schema `upgrade_database` makes, without
    running every migration again for each of the hundreds of tests that want one."""
    path = tmp_path / "test-database.db"
    shutil.copyfile(migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@dataclass
class RunningAssistant:
    """The real stack: trained model, Rasa server, action server, on a temp database."""

    settings: Settings
    database_url: str
    rasa_url: str
    supervisor: object
    _conversation: object | None = field(default=None, repr=False)

    @property
    def rasa_token(self) -> str:
        """The secret Rasa's API and webhook ask of the gateway (made up by the supervisor)."""
        return self.supervisor.rasa_token  # type: ignore[attr-defined]

    def new_conversation(self) -> Conversation:
        """A gateway's `Conversation` with this assistant, as a channel under test gets it."""
        from bot.conversation import Conversation

        return Conversation(
            self.rasa_url, timeout=30, database_url=self.database_url, auth_token=self.rasa_token
        )

    async def talk(
        self,
        sender_id: str,
        text: str | None = None,
        *,
        payload: str | None = None,
        location: tuple[float, float] | None = None,
        language_hint: str | None = None,
    ) -> list:
        """Send one message the way a channel does and return the replies."""
        from bot.messages import IncomingMessage, Location

        if self._conversation is None:
            self._conversation = self.new_conversation()
        message = IncomingMessage(
            sender_id=sender_id,
            channel=sender_id.split(":", 1)[0],
            text=text,
            payload=payload,
            location=Location(*location) if location else None,
            language_hint=language_hint,
        )
        return await self._conversation.handle(message)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    """Train (cached by input hash), then start Rasa and the action server once per session.

    Its settings stay in the environment until the session ends, also when it was first asked
    for inside a module's own settings block, and are then put back as they were
    (tests/environment.py; tests/test_environment_layers.py)."""
    from bot.stack import free_port, running_assistant
    from bot.supervisor import StackPorts

    data_dir = tmp_path_factory.mktemp("assistant")
    database_url = f"sqlite:///{data_dir / 'learncity.db'}"
    overrides = {
        "LEARNCITY_DATA_DIR": str(data_dir),
        "LEARNCITY_MODELS_DIR": str(SHARED_MODELS_DIR),
        "DATABASE_URL": database_url,
        # "This weekend" in conversation tests is 5-6 December 2026, whatever day they run.
        "LEARNCITY_TODAY": "2026-12-01",
    }
    with settings_from_environment(overrides) as settings:
        ports = StackPorts(rasa=free_port(), actions=free_port())
        with running_assistant(settings, ports) as supervisor:
            yield RunningAssistant(settings, database_url, supervisor.rasa_url, supervisor)


def pytest_report_header() -> list[str]:
    """Say up front which real services answer; a test that needs a missing one fails."""
    redis_reason = redis_unavailable(REDIS_URL)
    postgres_reason = postgres_unavailable(POSTGRES_URL)
    return [
        f"Redis at {REDIS_URL}: {redis_reason or 'answers'}",
        f"PostgreSQL at {POSTGRES_URL}: {postgres_reason or 'answers'}",
    ]


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On CI (CI=true, as .ci/run sets) a skipped test is reported failed: a skip is not a pass,
    and whatever it needed (a service, a tool, the model) must be there for CI to be green."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and not hasattr(report, "wasxfail") and _on_ci():
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped on CI, which counts as a failure: {reason}"
