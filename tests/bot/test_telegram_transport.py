"""The Telegram channel's transport, with a fake Rasa REST endpoint behind it.

python-telegram-bot talks real HTTP to the fake Bot API; the gateway is served by uvicorn.
What the assistant answers is scripted here so each test can check one rendering or
transport rule; the conversations themselves are checked against the real assistant in
test_telegram.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.channels import telegram
from bot.channels.base import RecipientUnreachableError
from bot.channels.configured import build_channels
from bot.conversation import Conversation
from bot.messages import Reply
from bot.text_split import utf16_length
from citizens import subscribe_events, subscribers_for
from core.database import session_scope
from core.settings import Settings
from tests.bot.telegram_support import (
    WEBHOOK_SECRET,
    inline_buttons,
    serving_gateway,
    telegram_settings,
    texts,
)
from tests.fakes.rasa_rest import FakeRasa
from tests.fakes.telegram_api import FakeTelegramApi
from tests.waiting import wait_until_async


def _scripted(sender: str, message: str) -> list[dict[str, Any]]:
    """Answers chosen by what the test sends (the real NLU is not under test here)."""
    if message == "long please":
        paragraph = "Learning in Hailin 🎓 is for everyone. " * 40
        return [{"text": "\n\n".join([paragraph] * 8)}]
    if message == "long button":
        payload = '/search_course{"topic": "traditional Chinese calligraphy", "district": "Dongcheng", "schedule": "weekend"}'
        return [{"text": "Shall I look?", "buttons": [{"title": "Yes", "payload": payload}]}]
    if message == "near me":
        return [{"custom": {"learncity": {"text": "Where are you?", "request_location": True}}}]
    if message.startswith("/share_location"):
        point = json.loads(message.removeprefix("/share_location"))
        cards = [
            {
                "id": f"space-{number}",
                "type": "space",
                "name": f"Library {number}",
                "place": f"{number} River Road",
                "distance_m": 250.0 * number,
                "latitude": point["latitude"] + number / 1000,
                "longitude": point["longitude"],
            }
            for number in range(1, 5)
        ]
        return [{"custom": {"learncity": {"text": "Near you:", "cards": cards}}}]
    return [{"text": f"you said: {message}"}]


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    with FakeRasa(_scripted) as rasa:
        yield rasa


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(token="1234567:fake-token-for-tests") as api:
        yield api


def _settings(api: FakeTelegramApi, tmp_path: Path, database: str, webhook: bool) -> Settings:
    return telegram_settings(api, tmp_path, database, webhook=webhook)


async def test_webhook_refuses_missing_or_wrong_secret_and_answers_the_right_one(
    fake_telegram: FakeTelegramApi,
    fake_rasa: FakeRasa,
    tmp_path: Path,
    database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _settings(fake_telegram, tmp_path, database, webhook=True)
    conversation = Conversation(fake_rasa.url, database_url=database)
    async with serving_gateway(settings, conversation):
        assert fake_telegram.webhook["url"] == settings.telegram_webhook_url
        assert fake_telegram.webhook["secret_token"] == WEBHOOK_SECRET
        assert set(fake_telegram.webhook["allowed_updates"]) == set(telegram.ALLOWED_UPDATES)
        url = settings.telegram_webhook_url
        caplog.set_level(logging.WARNING, logger="bot.channels.telegram")
        missing = await fake_telegram.post_update(url, fake_telegram.text_update(301, "hi"))
        wrong = await fake_telegram.post_update(
            url, fake_telegram.text_update(301, "hi"), secret="not-" + WEBHOOK_SECRET
        )
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert fake_rasa.messages_from("telegram:301") == []
        refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert len(refusals) == 2 and all(WEBHOOK_SECRET not in line for line in refusals)

        good = await fake_telegram.post_update(
            url, fake_telegram.text_update(302, "hello there"), secret=WEBHOOK_SECRET
        )
        assert good.status_code == 200
        sent = await fake_telegram.wait_for_calls("sendMessage", chat_id=302)
        assert sent[0].params["text"] == "you said: hello there"
    assert fake_telegram.sent_to(301) == []


async def test_redelivered_update_is_answered_once(
    fake_telegram: FakeTelegramApi, fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    settings = _settings(fake_telegram, tmp_path, database, webhook=True)
    async with serving_gateway(settings, Conversation(fake_rasa.url, database_url=database)):
        update = fake_telegram.text_update(310, "once")
        for _ in range(3):
            response = await fake_telegram.post_update(
                settings.telegram_webhook_url, update, secret=WEBHOOK_SECRET
            )
            assert response.status_code == 200
        sent = await fake_telegram.wait_until_quiet(310)
    assert len(sent) == 1 and fake_rasa.messages_from("telegram:310") == ["once"]


async def test_commands_are_sent_as_intent_payloads_over_long_polling(
    fake_telegram: FakeTelegramApi, fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    settings = _settings(fake_telegram, tmp_path, database, webhook=False)
    commands = ["/start", "/help", "/language fr", "/mydata", "/forget", "/stop", "/unknown"]
    async with serving_gateway(settings, Conversation(fake_rasa.url, database_url=database)):
        assert fake_telegram.calls_to("deleteWebhook"), "polling clears any webhook first"
        for command in commands:
            fake_telegram.queue_update(fake_telegram.text_update(320, command))
        await fake_telegram.wait_for_calls("sendMessage", chat_id=320, count=len(commands))
    assert fake_rasa.messages_from("telegram:320") == [
        "/greet",
        "/help",
        '/set_language{"language": "fr"}',
        "/my_data",
        "/forget_me",
        "/unsubscribe_events",
        "/help",
    ]
    menus = fake_telegram.calls_to("setMyCommands")
    assert {command["command"] for command in menus[0].params["commands"]} == set(
        telegram.COMMAND_NAMES
    )


async def test_long_reply_is_split_at_4096_utf16_units(
    fake_telegram: FakeTelegramApi, fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    settings = _settings(fake_telegram, tmp_path, database, webhook=False)
    async with serving_gateway(settings, Conversation(fake_rasa.url, database_url=database)):
        fake_telegram.queue_update(fake_telegram.text_update(330, "long please"))
        sent = await fake_telegram.wait_until_quiet(330)
    expected = _scripted("", "long please")[0]["text"]
    assert len(sent) >= 2
    assert all(utf16_length(call.params["text"]) <= 4096 for call in sent)
    assert "".join(texts(sent).split()) == "".join(expected.split())


async def test_long_button_payload_survives_the_64_byte_callback_limit(
    fake_telegram: FakeTelegramApi, fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    settings = _settings(fake_telegram, tmp_path, database, webhook=False)
    async with serving_gateway(settings, Conversation(fake_rasa.url, database_url=database)):
        fake_telegram.queue_update(fake_telegram.text_update(340, "long button"))
        asked = await fake_telegram.wait_for_calls("sendMessage", chat_id=340)
        [button] = inline_buttons(asked)
        assert button["text"] == "Yes" and len(button["callback_data"].encode()) <= 64
        fake_telegram.queue_update(fake_telegram.callback_update(340, button["callback_data"]))
        await fake_telegram.wait_for_calls("sendMessage", chat_id=340, count=2)
        fake_telegram.queue_update(fake_telegram.callback_update(340, "#0123456789abcdef"))
        expired = await fake_telegram.wait_for_calls("sendMessage", chat_id=340, count=3)
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 2
    long_payload = _scripted("", "long button")[0]["buttons"][0]["payload"]
    assert fake_rasa.messages_from("telegram:340") == ["long button", long_payload]
    assert "expired" in expired[-1].params["text"]


async def test_a_pressed_button_takes_the_buttons_under_its_message_away(
    fake_telegram: FakeTelegramApi, fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    settings = _settings(fake_telegram, tmp_path, database, webhook=False)
    async with serving_gateway(settings, Conversation(fake_rasa.url, database_url=database)):
        fake_telegram.queue_update(fake_telegram.text_update(345, "long button"))
        [asked] = await fake_telegram.wait_until_quiet(345)
        shown = asked.result["message_id"]
        [button] = inline_buttons([asked])
        # A double tap: both presses were made while the buttons were still shown.
        for _ in range(2):
            press = fake_telegram.callback_update(345, button["callback_data"], message_id=shown)
            fake_telegram.queue_update(press)
        edits = await fake_telegram.wait_for_calls("editMessageReplyMarkup", chat_id=345, count=2)
        sent = await fake_telegram.wait_for_calls("sendMessage", chat_id=345, count=3)
    assert edits[0].params == {"chat_id": 345, "message_id": shown}  # no reply_markup: remove
    assert edits[0].at <= sent[1].at, "the stale buttons go before the answer arrives"
    assert "reply_markup" not in fake_telegram.bot_message(345, shown)
    assert edits[1].result is None  # refused: "message is not modified"; still answered
    long_payload = _scripted("", "long button")[0]["buttons"][0]["payload"]
    assert fake_rasa.messages_from("telegram:345") == ["long button", long_payload, long_payload]


async def test_near_me_asks_for_location_then_pins_three_venues_and_removes_the_keyboard(
    fake_telegram: FakeTelegramApi, fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    settings = _settings(fake_telegram, tmp_path, database, webhook=False)
    async with serving_gateway(settings, Conversation(fake_rasa.url, database_url=database)):
        fake_telegram.queue_update(fake_telegram.text_update(350, "near me", language_code="zh"))
        [question] = await fake_telegram.wait_for_calls("sendMessage", chat_id=350)
        keyboard = question.params["reply_markup"]["keyboard"]
        assert keyboard[0][0]["request_location"] is True
        assert keyboard[0][0]["text"] == "📍 发送我的位置"
        fake_telegram.queue_update(fake_telegram.location_update(350, 31.23, 121.47))
        venues = await fake_telegram.wait_for_calls("sendVenue", chat_id=350, count=3)
        sent = await fake_telegram.wait_until_quiet(350)
    answer = [call for call in sent if call.method == "sendMessage"][-1]
    assert answer.params["reply_markup"] == {"remove_keyboard": True}
    assert "Library 4" in answer.params["text"] and "1.0 km" in answer.params["text"]
    assert [venue.params["title"] for venue in venues] == ["Library 1", "Library 2", "Library 3"]
    assert venues[0].params["address"] == "1 River Road"
    assert fake_rasa.messages_from("telegram:350")[-1].startswith("/share_location")


async def test_citizen_who_blocks_the_bot_gets_no_broadcasts_until_they_write_again(
    fake_telegram: FakeTelegramApi, fake_rasa: FakeRasa, tmp_path: Path, database: str
) -> None:
    with session_scope(database) as session:
        subscribe_events(session, "telegram:360", consent=True)
    settings = _settings(fake_telegram, tmp_path, database, webhook=True)
    async with serving_gateway(settings, Conversation(fake_rasa.url, database_url=database)):
        url = settings.telegram_webhook_url
        blocked = fake_telegram.my_chat_member_update(360, "member", "kicked")
        assert (await fake_telegram.post_update(url, blocked, WEBHOOK_SECRET)).status_code == 200
        await wait_until_async(
            lambda: "telegram:360" not in _subscribers(database),
            10,
            "the blocked citizen unsubscribed",
        )
        await fake_telegram.post_update(url, fake_telegram.text_update(360, "back"), WEBHOOK_SECRET)
        await fake_telegram.wait_for_calls("sendMessage", chat_id=360)
    assert "telegram:360" in _subscribers(database)


async def test_broadcast_to_a_citizen_who_blocked_the_bot_marks_them_unreachable(
    fake_telegram: FakeTelegramApi, tmp_path: Path, database: str
) -> None:
    with session_scope(database) as session:
        subscribe_events(session, "telegram:370", consent=True)
        subscribe_events(session, "telegram:371", consent=True)
    fake_telegram.blocked_chats.add(370)
    sender = telegram.sender(_settings(fake_telegram, tmp_path, database, webhook=False))
    assert sender is not None and sender.channel == "telegram"
    await sender.send("371", [Reply(text="Learning festival on Saturday")])
    with pytest.raises(RecipientUnreachableError):
        await sender.send("370", [Reply(text="Learning festival on Saturday")])
    await sender.close()
    assert _subscribers(database) == ["telegram:371"]
    assert texts(fake_telegram.sent_to(371)) == "Learning festival on Saturday"


def test_without_a_token_the_channel_stays_off(tmp_path: Path) -> None:
    settings = Settings(learncity_data_dir=tmp_path, telegram_webhook_url="https://x.example/t")
    conversation = Conversation("http://127.0.0.1:9")
    channels = build_channels(conversation, settings)
    assert [channel.name for channel in channels] == ["web"]
    assert telegram.sender(settings) is None


def test_webhook_mode_without_a_usable_secret_names_the_setting(
    fake_telegram: FakeTelegramApi, tmp_path: Path, database: str
) -> None:
    settings = _settings(fake_telegram, tmp_path, database, webhook=True)
    settings.telegram_webhook_secret = SecretStr("")
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        build_channels(Conversation("http://127.0.0.1:9"), settings)


def _subscribers(database: str) -> list[str]:
    with session_scope(database) as session:
        return subscribers_for(session)
