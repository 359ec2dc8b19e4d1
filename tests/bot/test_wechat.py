"""Whole WeChat conversations: WeChat's callbacks and API (local stand-ins) and the real assistant.

The gateway runs the real WeChat channel; behind it, the trained Rasa model, the action
server and the sample city (the `assistant` fixture). What the citizen sees on WeChat is
compared with what the same question gets through the channel-neutral `Conversation`, so the
tests check that WeChat shows what the assistant said without hard-coding its words. The
5-second rule is exercised with a slow network (tests/fakes/slow_proxy.py) in front of the
real Rasa server.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.conversation import Conversation
from bot.kind_replies import TRY_AGAIN
from bot.messages import Reply
from core.settings import Settings
from nlu.language import detect_language
from tests.bot.wechat_support import callbacks_for, serving_gateway, wechat_settings
from tests.conftest import RunningAssistant
from tests.fakes.slow_proxy import SlowProxy
from tests.fakes.wechat_api import FakeWeChatApi, WeChatCallbacks
from tests.waiting import holds_for_async, settled_async

pytestmark = pytest.mark.slow

HAILIN_CENTRE = (31.23, 121.47)
_HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChatApi]:
    with FakeWeChatApi() as api:
        yield api


@pytest.fixture
def settings(assistant: RunningAssistant, fake_wechat: FakeWeChatApi, tmp_path: Path) -> Settings:
    return wechat_settings(fake_wechat, tmp_path, assistant.database_url)


@pytest.fixture
async def wechat_gateway(
    assistant: RunningAssistant, settings: Settings
) -> AsyncIterator[WeChatCallbacks]:
    """The gateway with the WeChat channel, answering with the real assistant."""
    conversation = Conversation(
        assistant.rasa_url,
        timeout=30,
        database_url=assistant.database_url,
        auth_token=assistant.rasa_token,
    )
    async with serving_gateway(settings, conversation) as (url, _):
        yield callbacks_for(settings, url)


@pytest.fixture
async def slow_wechat_gateway(
    assistant: RunningAssistant, fake_wechat: FakeWeChatApi, tmp_path: Path
) -> AsyncIterator[tuple[WeChatCallbacks, SlowProxy]]:
    """The real assistant 2.5 s away and a 1 s reply budget: every answer misses the budget."""
    settings = wechat_settings(
        fake_wechat, tmp_path, assistant.database_url, reply_budget_seconds=1.0
    )
    with SlowProxy(assistant.rasa_url, delay_seconds=2.5) as proxy:
        conversation = Conversation(
            proxy.url,
            timeout=30,
            database_url=assistant.database_url,
            auth_token=assistant.rasa_token,
        )
        async with serving_gateway(settings, conversation) as (url, _):
            yield callbacks_for(settings, url), proxy


async def _what_the_citizen_sees(
    callbacks: WeChatCallbacks, api: FakeWeChatApi, openid: str, response: httpx.Response
) -> str:
    """The passive reply, or (if the assistant was slower than the budget) what followed it."""
    assert response.status_code == 200, response.text
    passive = "" if response.text == "success" else callbacks.reply_fields(response)["Content"]
    if not passive:
        await api.wait_for_messages(openid)
    # A long answer continues as customer-service messages: take them once they stop coming.
    sent = await settled_async(lambda: api.sent_to(openid), 0.5, 30, f"messages to {openid}")
    return "\n".join([passive, *(message.content for message in sent)]).strip()


def _card_names(replies: list[Reply]) -> list[str]:
    return [card.name for reply in replies for card in reply.cards]


def _is_try_again(text: str) -> bool:
    return any(sentence in text for sentence in TRY_AGAIN.values())


async def test_a_chinese_python_question_lists_python_courses_in_chinese(
    assistant: RunningAssistant, wechat_gateway: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    expected = await assistant.talk("web:wechat-compare-1", "我想学Python")
    response = await wechat_gateway.post(wechat_gateway.text("oPYTHON", "我想学Python"))
    shown = await _what_the_citizen_sees(wechat_gateway, fake_wechat, "oPYTHON", response)
    names = _card_names(expected)
    assert any("python" in name.lower() for name in names), f"no Python course in {names}"
    assert all(name in shown for name in names), f"cards missing from {shown!r}"
    assert detect_language(shown.splitlines()[0]) == "zh", shown
    assert not _is_try_again(shown), shown


async def test_a_safe_mode_question_is_answered_encrypted_in_the_citizens_language(
    wechat_gateway: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    question = wechat_gateway.text("oSAFEZH", "周末有免费的英语课吗")
    response = await wechat_gateway.post(question, encrypted=True)
    assert response.text == "success" or "<Encrypt>" in response.text
    shown = await _what_the_citizen_sees(wechat_gateway, fake_wechat, "oSAFEZH", response)
    assert _HAN.search(shown.splitlines()[0]), shown
    assert not _is_try_again(shown), shown


async def test_a_shared_location_is_answered_with_places_nearby(
    assistant: RunningAssistant, wechat_gateway: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    expected = await assistant.talk("web:wechat-compare-2", location=HAILIN_CENTRE)
    xml = wechat_gateway.location("oNEAR", *HAILIN_CENTRE, label="海林市")
    shown = await _what_the_citizen_sees(
        wechat_gateway, fake_wechat, "oNEAR", await wechat_gateway.post(xml)
    )
    names = _card_names(expected)
    assert names, "the assistant lists places near the centre of Hailin"
    assert all(name in shown for name in names), f"places missing from {shown!r}"
    assert re.search(r"\d+(\.\d)? k?m\b", shown), f"no distance shown in {shown!r}"


async def test_following_the_account_is_greeted(
    wechat_gateway: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    response = await wechat_gateway.post(wechat_gateway.event("oNEWFOLLOWER", "subscribe"))
    shown = await _what_the_citizen_sees(wechat_gateway, fake_wechat, "oNEWFOLLOWER", response)
    assert shown and not _is_try_again(shown), shown


async def test_a_slow_answer_says_success_then_arrives_once_as_a_customer_service_message(
    assistant: RunningAssistant,
    slow_wechat_gateway: tuple[WeChatCallbacks, SlowProxy],
    fake_wechat: FakeWeChatApi,
) -> None:
    callbacks, proxy = slow_wechat_gateway
    expected = await assistant.talk("web:wechat-compare-3", "我想学Python")
    response = await callbacks.post(callbacks.text("oSLOWPY", "我想学Python"))
    assert (response.status_code, response.text) == (200, "success")
    (message,) = await fake_wechat.wait_for_messages("oSLOWPY", timeout=30)
    await holds_for_async(
        lambda: len(fake_wechat.sent_to("oSLOWPY")) == 1, 1.5, "one customer-service message"
    )
    assert all(name in message.content for name in _card_names(expected)), message.content
    assert len(proxy.bodies_from("wechat:oSLOWPY")) == 1


async def test_wechat_retries_of_one_message_reach_the_assistant_once(
    slow_wechat_gateway: tuple[WeChatCallbacks, SlowProxy], fake_wechat: FakeWeChatApi
) -> None:
    callbacks, proxy = slow_wechat_gateway
    xml = callbacks.text("oRETRYHI", "你好")
    responses = await callbacks.post_with_retries(xml, attempts=4, interval=1.0)
    assert [getattr(r, "text", r) for r in responses] == ["success"] * 4
    await fake_wechat.wait_for_messages("oRETRYHI", timeout=30)
    await holds_for_async(
        lambda: len(fake_wechat.sent_to("oRETRYHI")) == 1, 1.5, "one answer to four retries"
    )
    assert [body["message"] for body in proxy.bodies_from("wechat:oRETRYHI")] == ["你好"]
