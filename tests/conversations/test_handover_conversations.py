"""Asking for a person in every language: the queue reply, silence while a person holds the
chat, and the bot answering again once the hand-over ends — on the trained model, the Rasa
server and the action server, checked in the database behind them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import helpdesk
from bot.admin.helpdesk_pages import HelpdeskPages
from bot.channels.web import WebSender
from core.database import session_scope
from tests.conftest import RunningAssistant
from tests.conversations.support import buttons, catalog_text, languages, new_sender, texts
from tests.helpdesk.support import ALWAYS_OPEN, chat_lines_of, web_outbox_texts

pytestmark = pytest.mark.slow

# How citizens ask, in words the training data does not hold verbatim (the first ones are the
# issue's own examples, kept as they are).
ASKING = [
    ("zh", "我想找人工客服"),
    ("en", "could I chat with a real person?"),
    ("es", "quiero hablar con una persona de verdad"),
    ("fr", "je voudrais parler à quelqu'un de la ville"),
    ("ar", "أريد التحدث مع موظف"),
    ("ru", "соедините меня с оператором"),
    ("uk", "хочу поговорити з людиною"),
]
GREETING = {
    "zh": "你好",
    "en": "hello",
    "es": "hola",
    "fr": "bonjour",
    "ar": "مرحبا",
    "ru": "привет",
    "uk": "привіт",
}


def _set_hours(database_url: str, hours: str) -> None:
    with session_scope(database_url) as session:
        helpdesk.set_office_hours(session, hours, "conversation-tests")


@pytest.fixture
def open_desk(assistant: RunningAssistant) -> Iterator[str]:
    _set_hours(assistant.database_url, ALWAYS_OPEN)
    yield assistant.database_url


def _open_chat(database_url: str, sender: str) -> helpdesk.ChatSummary:
    with session_scope(database_url) as session:
        chat = helpdesk.open_chat_for(session, sender)
    assert chat is not None, f"{sender} is not queued"
    return chat


def _expected_queue_reply(database_url: str, chat: helpdesk.ChatSummary, text_id: str) -> str:
    with session_scope(database_url) as session:
        position = helpdesk.queue_position(session, chat.id)
        hours = helpdesk.current_office_hours(session)
    return helpdesk.desk_text(
        text_id, chat.language, position=position, hours=hours.describe(chat.language)
    )


@pytest.mark.parametrize(("language", "asking"), ASKING, ids=[lang for lang, _ in ASKING])
async def test_asking_for_a_person_queues_then_a_person_holds_then_the_bot_is_back(
    assistant: RunningAssistant, open_desk: str, language: str, asking: str
) -> None:
    sender = new_sender("web")
    queued = await assistant.talk(sender, asking, language_hint=language)
    chat = _open_chat(open_desk, sender)
    assert (chat.language, languages(queued)) == (language, {language})
    assert texts(queued) == _expected_queue_reply(open_desk, chat, "queued")
    assert [b.payload for b in buttons(queued)] == [helpdesk.LEAVE_PAYLOAD]

    waiting = await assistant.talk(sender, "?", language_hint=language)
    with session_scope(open_desk) as session:
        position = helpdesk.queue_position(session, chat.id)
    assert texts(waiting) == helpdesk.desk_text("waiting_ack", language, position=position)

    with session_scope(open_desk) as session:
        assert helpdesk.claim(session, chat.id, "ana")
    held = await assistant.talk(sender, GREETING[language], language_hint=language)
    assert held == [], "the bot says nothing while a person holds the chat"

    # As the console's end button does: end and store the notice in one transaction, then
    # send it over the citizen's own channel (the web chat's outbox, read by their page).
    with session_scope(open_desk) as session:
        assert helpdesk.hand_back(session, chat.id, "ana") is not None
    await HelpdeskPages(open_desk, lambda: {"web": WebSender(open_desk)}).deliver(chat.id)
    resumed = helpdesk.desk_text("resumed", language)
    assert web_outbox_texts(open_desk, sender)[-1:] == [resumed], "told the bot is back"
    back = await assistant.talk(sender, GREETING[language], language_hint=language)
    assert texts(back) == catalog_text("greet", language), "the bot answers again"
    assert [(author, text) for author, text, _ in chat_lines_of(open_desk, chat.id)][-1] == (
        "desk",
        resumed,
    )


async def test_outside_office_hours_the_citizen_may_leave_a_message(
    assistant: RunningAssistant,
) -> None:
    _set_hours(assistant.database_url, "sun 00:00-00:01")  # as good as always closed
    try:
        sender = new_sender()
        closed = await assistant.talk(sender, "hablar con una persona", language_hint="es")
        chat = _open_chat(assistant.database_url, sender)
        assert texts(closed) == _expected_queue_reply(assistant.database_url, chat, "closed")
        await assistant.talk(sender, "Necesito homologar mi título de Caracas", language_hint="es")
    finally:
        _set_hours(assistant.database_url, ALWAYS_OPEN)
    assert chat_lines_of(assistant.database_url, chat.id) == [
        ("citizen", "Necesito homologar mi título de Caracas", False)
    ]


async def test_two_turns_the_bot_could_not_answer_offer_a_person(
    assistant: RunningAssistant, open_desk: str
) -> None:
    sender = new_sender()
    first = await assistant.talk(sender, "what's the weather tomorrow")
    assert "/request_human" not in [b.payload for b in buttons(first)]
    second = await assistant.talk(sender, "play some music for me")
    assert buttons(second)[0].payload == "/request_human"
    assert buttons(second)[0].title == helpdesk.desk_text("button_person", "en")

    await assistant.talk(sender, payload="/request_human")
    chat = _open_chat(open_desk, sender)
    assert chat.reason == "bot_failed"
    assert [turn["text"] for turn in chat.context[:2]] == [
        "what's the weather tomorrow",
        texts(first).split("\n")[0],
    ]


async def test_a_guidance_step_that_needs_a_person_offers_one(
    assistant: RunningAssistant, open_desk: str
) -> None:
    sender = new_sender()
    guidance = await assistant.talk(
        sender, payload='/migrant_guidance{"topic": "qualifications"}', language_hint="fr"
    )
    offer = [b.payload for b in buttons(guidance) if b.payload.startswith("/request_human")]
    assert offer == ['/request_human{"topic": "qualifications"}']
    await assistant.talk(sender, payload=offer[0], language_hint="fr")
    assert _open_chat(open_desk, sender).reason == "guidance:qualifications"


async def test_leaving_the_queue_gives_the_conversation_back_to_the_bot(
    assistant: RunningAssistant, open_desk: str
) -> None:
    sender = new_sender()
    await assistant.talk(sender, "转人工", language_hint="zh")
    left = await assistant.talk(sender, payload=helpdesk.LEAVE_PAYLOAD)
    assert texts(left) == helpdesk.desk_text("left_queue", "zh")
    with session_scope(open_desk) as session:
        assert helpdesk.open_chat_for(session, sender) is None
    searched = await assistant.talk(sender, "周末有英语课吗")
    assert searched and languages(searched) == {"zh"}
