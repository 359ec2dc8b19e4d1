"""With REDIS_URL set, open hand-overs are counted in Redis (helpdesk/open_index.py): two
gateway replicas on real PostgreSQL and real Redis; a claim on one silences the bot on the
other at the citizen's next turn, an end gives the citizen back to the bot there, a citizen
who is not at the desk costs no database read, and the count is rebuilt from the database
when Redis lost it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

import citizens
import helpdesk
from core.database import get_engine, session_scope
from core.settings import get_settings
from helpdesk import open_index
from tests.admin.console_support import console_app, csrf_token_in, log_in
from tests.helpdesk.support import ALWAYS_OPEN, ask_for_person
from tests.services import REDIS_URL, require_redis

postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def redis_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """REDIS_URL set for this process, under a key prefix of this test's own; yields the
    client and the hash's key, and removes the test's keys afterwards."""
    client = require_redis()
    prefix = f"test-{uuid.uuid4().hex[:10]}:"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REDIS_KEY_PREFIX", prefix)
    get_settings.cache_clear()
    yield client, f"{prefix}helpdesk:open"
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.delenv("REDIS_KEY_PREFIX")
    get_settings.cache_clear()


@pytest.fixture
async def replicas(
    database_url: str, redis_settings: tuple[Any, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two gateway replicas (each the real app) on one database and one Redis."""
    first, first_conversation = console_app(database_url, {"ana": "helpdesk"})
    second, second_conversation = console_app(database_url, {})
    with session_scope(database_url) as session:
        helpdesk.set_office_hours(session, ALWAYS_OPEN, "test")
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")  # type: ignore[arg-type]
        for app in (first, second)
    ]
    yield clients[0], clients[1]
    for client in clients:
        await client.aclose()
    await first_conversation.close()
    await second_conversation.close()


async def _say(replica: httpx.AsyncClient, session_id: str, text: str) -> list[str]:
    response = await replica.post("/api/chat", json={"session_id": session_id, "text": text})
    assert response.status_code == 200, response.text
    return [reply["text"] for reply in response.json()["replies"]]


@postgresql_only
async def test_a_claim_on_one_replica_silences_the_bot_on_the_other(
    database_url: str, redis_settings: tuple[Any, str], replicas: Any
) -> None:
    client, key = redis_settings
    first, second = replicas
    sender = "web:s-two-replicas"
    ticket = ask_for_person(database_url, sender, language="fr")  # as action_request_human
    assert client.hget(key, sender) == b"1", "counted in Redis when the chat opened"

    await log_in(first, "ana")
    token = csrf_token_in((await first.get("/admin/helpdesk")).text)
    claimed = await first.post(
        "/admin/helpdesk/claim", data={"csrf_token": token, "chat_id": ticket.chat_id}
    )
    assert claimed.headers["location"].endswith("notice=claimed")

    assert await _say(second, "s-two-replicas", "Vous êtes là ?") == [], "the bot is silent"
    with session_scope(database_url) as session:
        lines = helpdesk.chat_lines(session, ticket.chat_id)
    assert [line.text for line in lines] == ["Vous êtes là ?"], "the message went to the person"

    await first.post("/admin/helpdesk/end", data={"csrf_token": token, "chat_id": ticket.chat_id})
    assert client.hget(key, sender) is None, "uncounted once the end committed"
    back = await _say(second, "s-two-replicas", "bonjour")
    assert back, "the other replica's assistant answers again"
    with session_scope(database_url) as session:
        lines = helpdesk.chat_lines(session, ticket.chat_id)
    assert "bonjour" not in [line.text for line in lines]


@postgresql_only
async def test_a_citizen_not_at_the_desk_costs_no_database_read(
    database_url: str, redis_settings: tuple[Any, str], replicas: Any
) -> None:
    ask_for_person(database_url, "web:s-someone-else")  # the hash is built and not empty
    assert helpdesk.has_open_chat(database_url, "web:s-someone-else")
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine: Engine = get_engine(database_url)
    event.listen(engine, "before_cursor_execute", record)
    try:
        for number in range(20):
            assert not helpdesk.has_open_chat(database_url, f"web:s-not-at-desk-{number}")
            assert helpdesk.desk_turn(database_url, f"web:s-not-at-desk-{number}", "hi") is None
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [s for s in statements if "helpdesk_chats" in s] == []


@postgresql_only
async def test_redis_is_rebuilt_from_the_database_and_a_failed_opening_is_uncounted(
    database_url: str, redis_settings: tuple[Any, str], replicas: Any
) -> None:
    client, key = redis_settings
    ask_for_person(database_url, "telegram:4401", language="uk")
    client.delete(key)  # Redis restarted empty: the waiting citizen must not reach the bot
    acknowledged = helpdesk.desk_turn(database_url, "telegram:4401", "Алло?")
    assert acknowledged is not None
    assert [reply.text for reply in acknowledged] == [
        helpdesk.desk_text("waiting_ack", "uk", position=1)
    ]
    assert client.hget(key, "telegram:4401") == b"1", "rebuilt from the database"
    assert client.hget(key, open_index.BUILT) == b"1"

    with pytest.raises(RuntimeError), session_scope(database_url) as session:
        helpdesk.request_person(session, "telegram:4402", channel="telegram", language="uk")
        assert client.hget(key, "telegram:4402") == b"1", "counted before the commit"
        raise RuntimeError("the action failed before its commit")
    assert client.hget(key, "telegram:4402") is None, "uncounted: the chat never opened"
    assert helpdesk.desk_turn(database_url, "telegram:4402", "привіт") is None


async def test_without_redis_url_the_database_answers(database_url: str) -> None:
    from core.database import upgrade_database

    upgrade_database(database_url)
    assert not get_settings().redis_url
    ask_for_person(database_url, "web:s-no-redis")
    assert open_index.counted(database_url, "web:s-no-redis") is None
    assert helpdesk.has_open_chat(database_url, "web:s-no-redis")
    assert not helpdesk.has_open_chat(database_url, "web:s-nobody")


@postgresql_only
async def test_leaving_the_queue_and_forget_me_uncount_the_citizen(
    database_url: str, redis_settings: tuple[Any, str], replicas: Any
) -> None:
    client, key = redis_settings
    ask_for_person(database_url, "web:s-leaves", language="zh")
    ask_for_person(database_url, "web:s-forgets", language="ar")
    assert client.hget(key, "web:s-leaves") == client.hget(key, "web:s-forgets") == b"1"

    assert helpdesk.desk_turn(database_url, "web:s-leaves", helpdesk.LEAVE_PAYLOAD)
    with session_scope(database_url) as session:
        citizens.erase_citizen(session, "web:s-forgets")

    assert client.hget(key, "web:s-leaves") is None
    assert client.hget(key, "web:s-forgets") is None
    assert helpdesk.desk_turn(database_url, "web:s-forgets", "مرحبا") is None, "the bot answers"
