"""Shared fixtures: real databases (SQLite, and PostgreSQL when it answers) and the running assistant."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from core.settings import REPOSITORY_ROOT, Settings, get_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

POSTGRES_ADMIN_URL = os.environ.get(
    "LEARNCITY_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
SHARED_MODELS_DIR = REPOSITORY_ROOT / ".data" / "models"  # trained models are cached by input hash


def _postgres_answers() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any driver error means "not available here"
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis; skipped when Redis does not answer."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"Redis does not answer at {REDIS_URL} ({type(error).__name__}): test skipped"
        print(reason)
        pytest.skip(reason)
    prefix = f"learncity-test:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a temp SQLite file, then a fresh PostgreSQL schema if it answers."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    reason = _postgres_answers()
    if reason is not None:
        message = (
            f"PostgreSQL at {POSTGRES_ADMIN_URL} does not answer ({reason}); storage test skipped"
        )
        print(f"\nSKIP: {message}")
        pytest.skip(message)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


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
        from bot.conversation import Conversation
        from bot.messages import IncomingMessage, Location

        if self._conversation is None:
            self._conversation = Conversation(
                self.rasa_url,
                timeout=30,
                database_url=self.database_url,
                auth_token=self.rasa_token,
            )
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
    """Train (cached by input hash), then start Rasa and the action server once per session."""
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
    previous = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    get_settings.cache_clear()
    settings = get_settings()
    try:
        ports = StackPorts(rasa=free_port(), actions=free_port())
        with running_assistant(settings, ports) as supervisor:
            yield RunningAssistant(settings, database_url, supervisor.rasa_url, supervisor)
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
