"""A citizen whose chat a person holds can still ask "my data" and "forget me": the assistant
answers those (buttons or clear words), not the member of staff, and "forget me" ends the
hand-over and erases its messages. Through the gateway's `Conversation`, on the real stack."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

import helpdesk
from actions.messages import say
from bot.conversation import Conversation
from bot.messages import IncomingMessage
from core.database import session_scope
from helpdesk.privacy_turns import asked_to_confirm_last, payload_intent
from tests.conftest import RunningAssistant
from tests.helpdesk.support import ALWAYS_OPEN, chat_lines_of

pytestmark = pytest.mark.slow


@pytest.fixture
async def conversation(assistant: RunningAssistant) -> AsyncIterator[Conversation]:
    with session_scope(assistant.database_url) as session:
        helpdesk.set_office_hours(session, ALWAYS_OPEN, "test")
    talk = Conversation(
        assistant.rasa_url,
        timeout=60,
        database_url=assistant.database_url,
        auth_token=assistant.rasa_token,
    )
    yield talk
    await talk.close()


class Citizen:
    """One web chat citizen talking through the gateway's conversation."""

    def __init__(self, conversation: Conversation, language: str) -> None:
        self.conversation = conversation
        self.sender_id = f"web:privacy-{uuid.uuid4().hex[:10]}"
        self.language = language

    async def says(self, text: str) -> list[str]:
        return await self._send(text=text)

    async def presses(self, payload: str) -> list[str]:
        return await self._send(payload=payload)

    async def _send(self, **what: str) -> list[str]:
        message = IncomingMessage(self.sender_id, "web", language_hint=self.language, **what)
        return [reply.text or "" for reply in await self.conversation.handle(message)]


async def _held_by_a_person(
    conversation: Conversation, language: str, asking: str
) -> tuple[Citizen, int]:
    """A citizen who asked for a person in their words, and whose chat a person claimed."""
    citizen = Citizen(conversation, language)
    await citizen.says(asking)
    with session_scope(conversation.database_url) as session:
        chat = helpdesk.open_chat_for(session, citizen.sender_id)
        assert chat is not None, "the citizen is at the help desk"
        assert helpdesk.claim(session, chat.id, "ana")
        return citizen, chat.id


def _open_chat(database_url: str, sender_id: str) -> helpdesk.ChatSummary | None:
    with session_scope(database_url) as session:
        return helpdesk.open_chat_for(session, sender_id)


async def test_my_data_and_forget_me_during_a_held_chat_are_answered_by_the_assistant(
    assistant: RunningAssistant, conversation: Conversation
) -> None:
    url = assistant.database_url
    citizen, chat_id = await _held_by_a_person(conversation, "es", "quiero hablar con una persona")
    assert await citizen.says("Mi título es de Venezuela") == [], "the bot is silent while held"

    pressed = await citizen.presses("/my_data")
    typed = await citizen.says("¿qué datos tienes de mí?")

    assert pressed and pressed[0].startswith(say("my_data_intro", "es"))
    assert typed and typed[0].startswith(say("my_data_intro", "es"))
    assert [line[1] for line in chat_lines_of(url, chat_id)] == ["Mi título es de Venezuela"]

    asked = await citizen.says("olvídame")
    if asked == [say("confirm_forget_me", "es")]:
        # Below the forget_me guard's calibrated confidence (0.97) the assistant first asks
        # whether erasing is meant; its "yes" button leads to the same confirmation.
        asked = await citizen.presses("/forget_me")
    assert asked == [say("ask_forget_confirm", "es")]
    done = await citizen.presses("/affirm")

    assert len(done) == 1 and done[0].startswith(say("forget_done", "es", count=0).split("(")[0])
    assert _open_chat(url, citizen.sender_id) is None, "forgetting ended the hand-over"
    assert chat_lines_of(url, chat_id) == [], "and erased its messages"
    assert await citizen.says("hola") != [], "the assistant answers again"


async def test_a_yes_written_to_the_person_after_the_question_stays_with_the_person(
    assistant: RunningAssistant, conversation: Conversation
) -> None:
    url = assistant.database_url
    citizen, chat_id = await _held_by_a_person(conversation, "en", "I want to talk to a person")

    assert await citizen.presses("/forget_me") == [say("ask_forget_confirm", "en")]
    assert await citizen.says("My diploma is from Kyiv, can you check it?") == []
    assert await citizen.says("yes") == [], "this yes answers the person"

    assert _open_chat(url, citizen.sender_id) is not None, "nothing was erased"
    assert [line[1] for line in chat_lines_of(url, chat_id)] == [
        "My diploma is from Kyiv, can you check it?",
        "yes",
    ]


def test_a_payload_names_its_intent_and_text_names_none() -> None:
    assert payload_intent("/forget_me") == "forget_me"
    assert payload_intent('/affirm{"x": 1}') == "affirm"
    assert payload_intent("forget me") is None


def test_only_the_latest_turn_asking_to_erase_makes_a_yes_the_assistants() -> None:
    asked = [
        {"event": "user", "text": "forget me", "timestamp": 100.0},
        {"event": "action", "name": "action_forget_me"},
        {"event": "action", "name": "action_listen"},
    ]
    answered = [*asked, {"event": "user", "text": "/affirm", "timestamp": 101.0}]
    answered += [{"event": "action", "name": "action_confirm_forget_me"}]

    assert asked_to_confirm_last(asked, last_to_desk=50.0) is True
    assert asked_to_confirm_last(asked, last_to_desk=150.0) is False  # wrote to the desk since
    assert asked_to_confirm_last(answered, last_to_desk=50.0) is False
    assert asked_to_confirm_last([], last_to_desk=0.0) is False
