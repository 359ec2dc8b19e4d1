"""WeChat messages a text-only account easily answers in the wrong language, or not at all.

Through the real WeChat channel (safe mode, signed and encrypted by the local stand-in) to the
trained assistant behind a real Rasa server. Pictures, videos, links, files and voice without
speech recognition get a short note in the language the citizen is known by (both Chinese and
English only for a citizen not yet known); a message of invisible characters gets a prompt,
not silence and not a guess of the assistant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.kind_replies import EMPTY_MESSAGE, NOT_READ
from nlu.language import detect_language
from tests.bot.wechat_support import callbacks_for, serving_gateway, wechat_settings
from tests.conftest import RunningAssistant
from tests.fakes.wechat_api import FakeWeChatApi, WeChatCallbacks

pytestmark = pytest.mark.slow

SPANISH_QUESTION = "¿Dónde puedo aprender inglés los fines de semana?"


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChatApi]:
    with FakeWeChatApi() as api:
        yield api


@pytest.fixture
async def account(
    assistant: RunningAssistant, fake_wechat: FakeWeChatApi, tmp_path: Path
) -> AsyncIterator[WeChatCallbacks]:
    settings = wechat_settings(fake_wechat, tmp_path, assistant.database_url)
    conversation = assistant.new_conversation()
    async with serving_gateway(settings, conversation) as (url, _):
        yield callbacks_for(settings, url)


async def _answer(account: WeChatCallbacks, api: FakeWeChatApi, xml: str, openid: str) -> str:
    """The passive reply, or (on a busy machine, past the reply budget) the customer-service
    message that follows it."""
    already = len(api.sent_to(openid))
    response = await account.post(xml)
    assert response.status_code == 200, response.text
    if response.text != "success":
        return account.reply_fields(response)["Content"]
    return (await api.wait_for_messages(openid, count=already + 1))[already].content


@pytest.mark.parametrize("kind", ["image", "voice", "video", "shortvideo", "link", "file"])
async def test_what_the_account_cannot_read_gets_a_note_in_the_citizens_language(
    account: WeChatCallbacks, fake_wechat: FakeWeChatApi, kind: str
) -> None:
    openid = f"oSpanish{kind}"
    answer = await _answer(account, fake_wechat, account.text(openid, SPANISH_QUESTION), openid)
    assert detect_language(answer.splitlines()[0]) == "es", answer
    note = await _answer(account, fake_wechat, account.media(openid, kind), openid)
    assert note == NOT_READ["es"]


async def test_a_citizen_not_yet_known_gets_the_note_in_chinese_and_english(
    account: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    note = await _answer(account, fake_wechat, account.media("oNewcomer", "image"), "oNewcomer")
    assert note == f"{NOT_READ['zh']}\n{NOT_READ['en']}"


async def test_only_invisible_characters_get_a_prompt_in_the_known_language(
    account: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    await _answer(account, fake_wechat, account.text("oBlank", SPANISH_QUESTION), "oBlank")
    prompt = await _answer(account, fake_wechat, account.text("oBlank", "\u200b\u200f"), "oBlank")
    assert prompt == EMPTY_MESSAGE["es"]
