"""With REDIS_URL set and Redis down, a citizen who asks for a person is told so, kindly, in
their language, with the button to ask again; nothing half-made stays in the queue, and the
operator reads one clear line saying what failed and what to do.

Redis is a real address where nothing listens (a port bound, never listened on); the action is the real
`action_request_human`, run as the action server runs it (its failure boundary included), on a
real database at the current schema.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

import helpdesk
from actions.handover_actions import ActionRequestHuman
from core.database import session_scope
from core.settings import get_settings
from helpdesk.models import HandoverChat
from tests.helpdesk.support import ALWAYS_OPEN, ask_for_person, chat_lines_of
from tests.services import REDIS_URL


@pytest.fixture
def dead_redis_url(refused_port: int) -> str:
    """A Redis URL where nothing listens for the whole test (tests/conftest.py)."""
    return f"redis://127.0.0.1:{refused_port}/0"


@pytest.fixture
def redis_down(
    database: str, dead_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """This process's settings: the test's database, and REDIS_URL where nothing listens."""
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("REDIS_URL", dead_redis_url)
    get_settings.cache_clear()
    with session_scope(database) as session:
        helpdesk.set_office_hours(session, ALWAYS_OPEN, "test")
    yield database
    get_settings.cache_clear()


async def _ask_for_a_person(sender: str, text: str, language: str) -> list[dict]:
    tracker = Tracker(
        sender,
        {},
        {
            "text": text,
            "intent": {"name": "request_human"},
            "metadata": {"language_hint": language},
        },
        [{"event": "user", "text": text}],
        False,
        None,
        {},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    await ActionRequestHuman().run(dispatcher, tracker, {})
    return dispatcher.messages


@pytest.mark.parametrize(
    ("language", "text"),
    [("fr", "je voudrais parler à quelqu'un"), ("zh", "我要人工服务"), ("uk", "з людиною")],
)
async def test_asking_for_a_person_while_redis_is_down_gets_a_kind_reply_in_their_language(
    redis_down: str, language: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    sender = f"web:redis-down-{language}"
    with caplog.at_level(logging.WARNING):
        messages = await _ask_for_a_person(sender, text, language)
    said = [message["custom"]["learncity"] for message in messages]
    assert [reply["text"] for reply in said] == [helpdesk.desk_text("desk_unavailable", language)]
    assert [button["payload"] for button in said[0]["buttons"]] == ["/request_human"]
    assert [button["title"] for button in said[0]["buttons"]] == [
        helpdesk.desk_text("button_person", language)
    ]
    with session_scope(redis_down) as session:  # nothing half-made: no chat the bot ignores
        chats = session.scalar(select(func.count()).select_from(HandoverChat))
    assert chats == 0
    operator = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(operator) == 1, operator
    assert "a web citizen asked for a person but was not queued" in operator[0]
    assert "Start Redis (REDIS_URL) or unset REDIS_URL" in operator[0]
    assert text not in operator[0] and sender not in operator[0]  # no citizen data in the log


async def test_the_same_request_is_queued_once_redis_answers_again(
    redis_down: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is lost: the button asks again, and then the citizen is in the queue."""
    refused = await _ask_for_a_person("web:redis-back", "talk to a person", "en")
    button = refused[0]["custom"]["learncity"]["buttons"][0]["payload"]
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REDIS_KEY_PREFIX", redis_prefix)
    get_settings.cache_clear()
    queued = await _ask_for_a_person("web:redis-back", button, "en")
    assert queued[0]["custom"]["learncity"]["text"].startswith(
        "OK, a person from the city's help desk will answer you here. You are number 1"
    )
    with session_scope(redis_down) as session:
        waiting = session.scalars(select(HandoverChat.sender_id)).all()
    assert waiting == ["web:redis-back"]


async def test_a_citizen_already_waiting_is_heard_while_redis_is_down(
    database: str, dead_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their message is stored for the desk and acknowledged with their place: the gateway asks
    the database when Redis cannot say whether a hand-over is open."""
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    with session_scope(database) as session:
        helpdesk.set_office_hours(session, ALWAYS_OPEN, "test")
    ticket = ask_for_person(database, "telegram:5501", language="ar")
    monkeypatch.setenv("REDIS_URL", dead_redis_url)
    get_settings.cache_clear()
    try:
        acknowledged = helpdesk.desk_turn(database, "telegram:5501", "هل من أحد؟")
    finally:
        get_settings.cache_clear()
    assert acknowledged is not None
    assert [reply.text for reply in acknowledged] == [
        helpdesk.desk_text("waiting_ack", "ar", position=1)
    ]
    assert chat_lines_of(database, ticket.chat_id) == [("citizen", "هل من أحد؟", False)]
