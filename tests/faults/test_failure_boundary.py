"""A turn that fails inside the gateway: every channel answers a kind "try again", never silence.

The gateway is real (uvicorn, real HTTP), its database a real SQLite file, and the failure
real: a table the turn writes to is dropped under the running gateway, as an operator's bad
migration or a lost database would leave it. The assistant is a scripted Rasa endpoint that
answers "forget me" the way the real dialogue does, with the flag that makes the gateway
erase the citizen's records; WeChat and Telegram are their local stand-ins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.conversation import Conversation
from bot.kind_replies import TRY_AGAIN
from bot.stack import free_port, gateway_app
from core.settings import Settings
from tests.bot.telegram_support import serving_gateway as serving_telegram_gateway
from tests.bot.telegram_support import telegram_settings
from tests.bot.wechat_support import callbacks_for, wechat_settings
from tests.bot.wechat_support import serving_gateway as serving_wechat_gateway
from tests.fakes.loopback import serving_in_this_loop
from tests.fakes.rasa_rest import FakeRasa
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi

ERASED = "Erased: nothing is kept about you."


def _assistant(sender: str, message: str) -> list[dict[str, Any]]:
    if "忘记我" in message or "forget me" in message:
        return [{"custom": {"learncity": {"text": ERASED, "erase_conversation": True}}}]
    return [{"text": f"you said: {message}"}]


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    with FakeRasa(_assistant) as rasa:
        yield rasa


def _drop_table(database: str, table: str) -> None:
    """Break the database under the running gateway: writes to `table` now fail."""
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}"))
    engine.dispose()


def _operator_saw_it(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "bot.conversation" and record.levelno >= logging.ERROR
    ]


async def test_web_chat_erase_failure_is_a_kind_try_again_not_a_false_erased(
    fake_rasa: FakeRasa, database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        learncity_data_dir=tmp_path, database_url=database, gateway_port=free_port()
    )
    conversation = Conversation(fake_rasa.url, database_url=database)
    async with (
        serving_in_this_loop(gateway_app(settings, conversation), settings.gateway_port) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        fine = await client.post("/api/chat", json={"text": "你好"})
        assert fine.json()["replies"][0]["text"] == "you said: 你好"
        _drop_table(database, "learning_needs")
        response = await client.post(
            "/api/chat", json={"session_id": fine.json()["session_id"], "text": "忘记我"}
        )
    assert response.status_code == 200
    assert [reply["text"] for reply in response.json()["replies"]] == [TRY_AGAIN["zh"]]
    assert _operator_saw_it(caplog), "the operator's log names the failed turn"


async def test_telegram_erase_failure_is_one_kind_try_again(
    fake_rasa: FakeRasa, database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeTelegramApi(token="1234567:boundary-token") as telegram:
        settings = telegram_settings(telegram, tmp_path, database, webhook=False)
        conversation = Conversation(fake_rasa.url, database_url=database)
        async with serving_telegram_gateway(settings, conversation):
            telegram.queue_update(telegram.text_update(601, "hello", language_code="en"))
            await telegram.wait_for_calls("sendMessage", chat_id=601)
            _drop_table(database, "learning_needs")
            telegram.queue_update(telegram.text_update(601, "forget me", language_code="en"))
            await telegram.wait_for_calls("sendMessage", chat_id=601, count=2)
            sent = await telegram.wait_until_quiet(601)
    assert [call.params["text"] for call in sent] == ["you said: hello", TRY_AGAIN["en"]]
    assert _operator_saw_it(caplog)


async def test_wechat_erase_failure_is_a_kind_try_again_not_silence(
    fake_rasa: FakeRasa, database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeWeChatApi() as api:
        settings = wechat_settings(api, tmp_path, database)
        conversation = Conversation(fake_rasa.url, database_url=database)
        async with serving_wechat_gateway(settings, conversation) as (url, _):
            callbacks = callbacks_for(settings, url)
            fine = await callbacks.post(callbacks.text("oBOUNDARY", "你好"))
            assert callbacks.reply_fields(fine)["Content"] == "you said: 你好"
            _drop_table(database, "learning_needs")
            response = await callbacks.post(callbacks.text("oBOUNDARY", "忘记我"))
    assert callbacks.reply_fields(response)["Content"] == TRY_AGAIN["zh"]
    assert api.sent_to("oBOUNDARY") == []
    assert _operator_saw_it(caplog)


async def test_wechat_first_write_failure_is_a_kind_try_again_not_silence(
    fake_rasa: FakeRasa, database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A new follower's first message records them as reachable: that write fails too."""
    with FakeWeChatApi() as api:
        settings = wechat_settings(api, tmp_path, database)
        conversation = Conversation(fake_rasa.url, database_url=database)
        async with serving_wechat_gateway(settings, conversation) as (url, _):
            callbacks = callbacks_for(settings, url)
            _drop_table(database, "citizen_profiles")
            response = await callbacks.post(callbacks.text("oNEWCOMER", "bonjour"))
    assert callbacks.reply_fields(response)["Content"] == TRY_AGAIN["fr"]
    assert fake_rasa.messages_from("wechat:oNEWCOMER") == []
    assert _operator_saw_it(caplog)
