"""Web chat clients that retry: a message resent with the same id is asked of the assistant once.

Served by uvicorn on loopback (real HTTP, real disconnects) in front of the trained assistant
behind a real Rasa server; what Rasa saw is read from its tracker store.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.gateway import create_app
from bot.stack import free_port
from tests.conftest import RunningAssistant
from tests.fakes.loopback import serving_in_this_loop

pytestmark = pytest.mark.slow

QUESTION = "I want to learn Python in the evenings"


@pytest.fixture
async def gateway_url(assistant: RunningAssistant) -> AsyncIterator[str]:
    conversation = assistant.new_conversation()
    try:
        async with serving_in_this_loop(create_app(conversation), free_port()) as url:
            yield url
    finally:
        await conversation.close()


def _citizen_turns(database_url: str, sender_id: str) -> int:
    """How many messages of this citizen reached Rasa (user events in its tracker store)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT COUNT(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
                    {"s": sender_id},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def same_answer_with_cards(*responses: httpx.Response) -> list[dict[str, Any]]:
    """The replies all `responses` gave (each a 200 with the same replies, a card among them)."""
    assert [response.status_code for response in responses] == [200] * len(responses), [
        response.text for response in responses
    ]
    answer: list[dict[str, Any]] = responses[0].json()["replies"]
    assert [card for reply in answer for card in reply["cards"]], answer
    assert [response.json()["replies"] for response in responses[1:]] == [answer] * (
        len(responses) - 1
    )
    return answer


async def test_a_retry_after_the_client_gave_up_gets_the_first_answer_asked_once(
    assistant: RunningAssistant, gateway_url: str
) -> None:
    """Before: every retry was a turn of its own, asked and answered again."""
    session_id, message_id = uuid.uuid4().hex, uuid.uuid4().hex
    body = {"session_id": session_id, "message_id": message_id, "text": QUESTION}
    # The first client gives up after 50 ms and closes its connection. On a loaded machine that is
    # long before the answer; on a quiet one a cached answer can beat it (the fresh-clone run saw
    # it). Either way the retry must get the first answer and the assistant be asked once.
    async with httpx.AsyncClient(base_url=gateway_url, timeout=0.05) as impatient:
        with contextlib.suppress(httpx.TimeoutException):
            await impatient.post("/api/chat", json=body)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60) as client:
        retried = await client.post("/api/chat", json=body)
        again = await client.post("/api/chat", json=body)
        other = await client.post(
            "/api/chat", json=body | {"message_id": uuid.uuid4().hex, "text": "thank you"}
        )
    assert other.status_code == 200
    same_answer_with_cards(retried, again)
    assert _citizen_turns(assistant.database_url, f"web:{session_id}") == 2, "question + thanks"


async def test_a_message_id_without_its_session_is_refused_naming_the_field(
    gateway_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10) as client:
        response = await client.post("/api/chat", json={"message_id": "m-1", "text": "hi"})
        bad_id = await client.post(
            "/api/chat", json={"session_id": "s-1", "message_id": "not an id!", "text": "hi"}
        )
    assert (response.status_code, bad_id.status_code) == (400, 400)
    assert "field message_id" in response.json()["error"]
    assert "field message_id" in bad_id.json()["error"]
