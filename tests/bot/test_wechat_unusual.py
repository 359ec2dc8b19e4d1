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
import yaml

from bot.kind_replies import EMPTY_MESSAGE, NOT_READ
from knowledge.city import load_city
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


@pytest.mark.parametrize(
    ("wordless", "language"), [("？？", "zh"), ("！。", "zh"), ("¿?", "es"), ("؟", "ar")]
)
async def test_a_new_citizens_wordless_message_is_asked_for_words_in_its_punctuations_language(
    account: WeChatCallbacks, fake_wechat: FakeWeChatApi, wordless: str, language: str
) -> None:
    """Before: a citizen not yet known got the prompt in English, whatever they typed."""
    openid = f"oPunctuation{sum(map(ord, wordless))}"
    prompt = await _answer(account, fake_wechat, account.text(openid, wordless), openid)
    assert prompt == EMPTY_MESSAGE[language]


@pytest.fixture
async def chinese_city_account(
    assistant: RunningAssistant, fake_wechat: FakeWeChatApi, tmp_path: Path
) -> AsyncIterator[WeChatCallbacks]:
    """The sample city with `language: zh` in its city file."""
    city_file = tmp_path / "city.yml"
    city = yaml.safe_load(load_city().source.read_text(encoding="utf-8"))
    city["city"]["language"] = "zh"
    city_file.write_text(yaml.safe_dump(city, allow_unicode=True), encoding="utf-8")
    settings = wechat_settings(fake_wechat, tmp_path, assistant.database_url).model_copy(
        update={"learncity_city_file": city_file}
    )
    conversation = assistant.new_conversation()
    async with serving_gateway(settings, conversation) as (url, _):
        yield callbacks_for(settings, url)


async def test_a_new_citizen_is_answered_in_the_citys_language_when_nothing_else_tells(
    chinese_city_account: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    """Before: a thumbs-up from a citizen not yet known was answered in English."""
    account = chinese_city_account
    prompt = await _answer(account, fake_wechat, account.text("oCityThumb", "👍"), "oCityThumb")
    assert prompt == EMPTY_MESSAGE["zh"]
    note = await _answer(account, fake_wechat, account.media("oCityPhoto", "image"), "oCityPhoto")
    assert note == NOT_READ["zh"]
    spanish = await _answer(
        account, fake_wechat, account.text("oCitySpanish", SPANISH_QUESTION), "oCitySpanish"
    )
    assert detect_language(spanish.splitlines()[0]) == "es", "what the citizen writes wins"


async def test_a_new_citizens_wechat_client_language_comes_before_the_citys(
    chinese_city_account: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    """user/info tells a follower's client language; it is asked once per citizen."""
    account, openid = chinese_city_account, "oEnglishPhone"
    fake_wechat.client_languages[openid] = "en"
    prompt = await _answer(account, fake_wechat, account.text(openid, "👍"), openid)
    note = await _answer(account, fake_wechat, account.media(openid, "image"), openid)
    assert (prompt, note) == (EMPTY_MESSAGE["en"], NOT_READ["en"])
    assert fake_wechat.user_info_calls == 1


async def test_a_new_follower_with_a_chinese_client_is_asked_in_chinese_only(
    account: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    """Before: "👍" got the English prompt, a picture the note in Chinese and English."""
    openid = "oChinesePhone"
    fake_wechat.client_languages[openid] = "zh_CN"
    prompt = await _answer(account, fake_wechat, account.text(openid, "👍"), openid)
    note = await _answer(account, fake_wechat, account.media(openid, "image"), openid)
    assert (prompt, note) == (EMPTY_MESSAGE["zh"], NOT_READ["zh"])
