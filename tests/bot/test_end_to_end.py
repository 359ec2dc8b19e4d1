"""A question travels gateway → Rasa NLU → dialogue policy → action server → catalog search → reply.

Rasa killed under a citizen's feet (a kind "try again" in their language, then answers again)
is checked on a stack of its own in tests/faults/test_process_faults.py, not on the session's
shared one, whose Rasa would take minutes to load again for every test after it."""

from __future__ import annotations

import httpx

from bot.conversation import Conversation
from bot.gateway import create_app
from tests.conftest import RunningAssistant


def _card_names(replies: list) -> list[str]:
    return [card.name for reply in replies for card in reply.cards]


async def test_chinese_question_is_answered_with_python_courses(
    assistant: RunningAssistant,
) -> None:
    replies = await assistant.talk("web:e2e-zh", "我想学Python")
    names = _card_names(replies)
    assert names, f"no course cards in {replies}"
    assert any("python" in name.lower() for name in names)
    card = next(card for reply in replies for card in reply.cards)
    assert card.place and card.schedule, "a course card shows where and when"


async def test_english_question_is_answered_with_pottery_courses(
    assistant: RunningAssistant,
) -> None:
    replies = await assistant.talk("web:e2e-en", "where can I learn pottery?")
    names = _card_names(replies)
    assert any("pottery" in name.lower() or "陶" in name for name in names), names


async def test_web_chat_api_answers_a_typed_question(assistant: RunningAssistant) -> None:
    conversation = Conversation(
        assistant.rasa_url, database_url=assistant.database_url, auth_token=assistant.rasa_token
    )
    app = create_app(conversation)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        page = await client.get("/")
        assert page.status_code == 200 and 'role="log"' in page.text
        response = await client.post("/api/chat", json={"text": "我想学Python"})
        assert response.status_code == 200
        body = response.json()
        assert body["session_id"]
        cards = [card for reply in body["replies"] for card in reply["cards"]]
        assert any("python" in card["name"].lower() for card in cards)
        bad = await client.post("/api/chat", json={"text": 42})
        assert bad.status_code == 400 and "field text" in bad.json()["error"]
    await conversation.close()
