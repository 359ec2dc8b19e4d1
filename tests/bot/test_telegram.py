"""Whole Telegram conversations: python-telegram-bot ↔ fake Bot API, and the real assistant.

The gateway runs the real Telegram channel; behind it, the trained Rasa model, the action
server and the sample city (the `assistant` fixture). What the citizen sees on Telegram is
compared with what the same question gets through the channel-neutral `Conversation`, so the
tests check that Telegram shows everything the assistant said, natively, without hard-coding
the assistant's words.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.conversation import Conversation
from bot.kind_replies import TRY_AGAIN
from bot.messages import Reply
from tests.bot.telegram_support import (
    WEBHOOK_SECRET,
    inline_buttons,
    serving_gateway,
    telegram_settings,
    texts,
)
from tests.conftest import RunningAssistant
from tests.fakes.telegram_api import FakeTelegramApi

pytestmark = pytest.mark.slow

HAILIN_CENTRE = (31.23, 121.47)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(token="7654321:real-assistant-test-token") as api:
        yield api


@pytest.fixture
async def polling(
    assistant: RunningAssistant, fake_telegram: FakeTelegramApi, tmp_path: Path
) -> AsyncIterator[FakeTelegramApi]:
    """The gateway long-polling the fake Bot API, answering with the real assistant."""
    settings = telegram_settings(fake_telegram, tmp_path, assistant.database_url, webhook=False)
    conversation = Conversation(
        assistant.rasa_url,
        timeout=30,
        database_url=assistant.database_url,
        auth_token=assistant.rasa_token,
    )
    async with serving_gateway(settings, conversation):
        yield fake_telegram


def _card_names(replies: list[Reply]) -> list[str]:
    return [card.name for reply in replies for card in reply.cards]


async def test_python_question_over_polling_gets_course_cards_and_the_same_buttons(
    assistant: RunningAssistant, polling: FakeTelegramApi
) -> None:
    expected = await assistant.talk("web:telegram-compare-1", "我想学Python")
    polling.queue_update(polling.text_update(9001, "我想学Python", language_code="zh"))
    sent = await polling.wait_until_quiet(9001, quiet=1.0)
    shown = texts(sent)
    names = _card_names(expected)
    assert any("python" in name.lower() for name in names), f"no Python course in {names}"
    assert all(name in shown for name in names), f"cards missing from {shown!r}"
    expected_titles = [button.title[:64] for reply in expected for button in reply.buttons]
    assert [button["text"] for button in inline_buttons(sent)] == expected_titles
    assert all(len(b["callback_data"].encode()) <= 64 for b in inline_buttons(sent))


async def test_webhook_question_with_the_secret_is_answered_and_without_it_refused(
    assistant: RunningAssistant, fake_telegram: FakeTelegramApi, tmp_path: Path
) -> None:
    settings = telegram_settings(fake_telegram, tmp_path, assistant.database_url, webhook=True)
    conversation = Conversation(
        assistant.rasa_url,
        timeout=30,
        database_url=assistant.database_url,
        auth_token=assistant.rasa_token,
    )
    question = "where can I learn pottery?"
    async with serving_gateway(settings, conversation):
        url = settings.telegram_webhook_url
        refused = await fake_telegram.post_update(url, fake_telegram.text_update(9002, question))
        assert refused.status_code == 403
        accepted = await fake_telegram.post_update(
            url, fake_telegram.text_update(9003, question), secret=WEBHOOK_SECRET
        )
        assert accepted.status_code == 200
        sent = await fake_telegram.wait_until_quiet(9003, quiet=1.0)
    assert fake_telegram.sent_to(9002) == []
    shown = texts(sent).lower()
    assert "pottery" in shown or "陶" in shown, shown


async def test_near_me_asks_for_the_location_then_pins_venues(
    assistant: RunningAssistant, polling: FakeTelegramApi
) -> None:
    polling.queue_update(polling.text_update(9004, "learning spaces near me"))
    asked = await polling.wait_until_quiet(9004, quiet=1.0)
    keyboards = [
        button
        for call in asked
        for row in (call.params.get("reply_markup") or {}).get("keyboard", [])
        for button in row
    ]
    assert any(button.get("request_location") for button in keyboards), asked
    polling.queue_update(polling.location_update(9004, *HAILIN_CENTRE))
    venues = await polling.wait_for_calls("sendVenue", chat_id=9004)
    answered = await polling.wait_until_quiet(9004, quiet=1.0)
    assert 1 <= len(venues) <= 3
    listed = texts(answered)
    assert all(venue.params["title"] in listed for venue in venues)
    removed = [
        call
        for call in answered[len(asked) :]
        if call.params.get("reply_markup") == {"remove_keyboard": True}
    ]
    assert removed, "the location keyboard is taken away once the location arrived"


async def test_pressing_a_button_answers_the_query_and_continues_the_conversation(
    polling: FakeTelegramApi,
) -> None:
    polling.queue_update(polling.text_update(9005, "/language"))
    offered = await polling.wait_until_quiet(9005, quiet=1.0)
    buttons = inline_buttons(offered)
    assert buttons, f"/language offers the languages as buttons: {texts(offered)!r}"
    polling.queue_update(polling.callback_update(9005, buttons[0]["callback_data"]))
    after = await polling.wait_for_calls("sendMessage", chat_id=9005, count=len(offered) + 1)
    assert polling.calls_to("answerCallbackQuery")
    assert after[-1].params["text"].strip()


async def test_more_shows_the_next_page_and_takes_the_old_pages_buttons_away(
    polling: FakeTelegramApi,
) -> None:
    polling.queue_update(polling.text_update(9006, "language classes"))
    first_page = await polling.wait_until_quiet(9006, quiet=1.0)
    [with_buttons] = [call for call in first_page if inline_buttons([call])]
    more = [b for b in inline_buttons([with_buttons]) if b["callback_data"] == "/show_more"]
    assert more, f"a long list offers more: {inline_buttons(first_page)}"
    shown = with_buttons.result["message_id"]
    polling.queue_update(polling.callback_update(9006, "/show_more", message_id=shown))
    [edit] = await polling.wait_for_calls("editMessageReplyMarkup", chat_id=9006)
    everything = await polling.wait_until_quiet(9006, quiet=1.0)
    second_page = texts(everything[len(first_page) :])
    assert second_page.strip() and second_page != texts(first_page)
    assert edit.params == {"chat_id": 9006, "message_id": shown}
    assert "reply_markup" not in polling.bot_message(9006, shown), "the old page's buttons went"


@pytest.mark.parametrize("command", ["/start", "/help", "/language", "/mydata"])
async def test_commands_are_answered_by_the_assistant(
    polling: FakeTelegramApi, command: str
) -> None:
    chat_id = 9100 + len(command)
    polling.queue_update(polling.text_update(chat_id, command))
    sent = await polling.wait_until_quiet(chat_id, quiet=1.0)
    shown = texts(sent).strip()
    assert shown, f"{command} got no answer"
    assert shown not in TRY_AGAIN.values(), f"{command} reached no intent: {shown!r}"
