"""The WeChat channel's transport, with a fake Rasa REST endpoint behind it.

WeChat's side (signed, encrypted callbacks) and its API (token, customer-service messages)
are the local stand-ins in tests/fakes/wechat_api.py, over real HTTP; the gateway is served
by uvicorn. What the assistant answers is scripted, so each test checks one transport or
rendering rule; conversations with the real assistant are in test_wechat.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.channels import wechat
from bot.channels.base import RecipientUnreachableError
from bot.channels.configured import build_channels
from bot.channels.wechat_api import TEXT_LIMIT_BYTES
from bot.conversation import Conversation
from bot.messages import Button, Reply
from bot.text_split import split_text, utf8_length
from citizens import is_reachable, subscribe_events
from core.database import session_scope
from core.settings import Settings
from tests.bot.wechat_support import WECHAT_TOKEN, callbacks_for, serving_gateway, wechat_settings
from tests.fakes.rasa_rest import FakeRasa
from tests.fakes.slow_proxy import SlowProxy
from tests.fakes.wechat_api import ACCOUNT_ID, FakeWeChatApi, WeChatCallbacks
from tests.waiting import holds_for_async

LONG_PARAGRAPH = "海林的学习属于每一个人。Learning in Hailin is for everyone. " * 20


def _scripted(sender: str, message: str) -> list[dict[str, Any]]:
    """Answers chosen by what the test sends (the real NLU is not under test here)."""
    if message == "long please":
        return [{"text": "\n\n".join([LONG_PARAGRAPH] * 6)}]
    if message == "choose":
        buttons = [
            {"title": "English", "payload": '/set_language{"language": "en"}'},
            {"title": "中文", "payload": '/set_language{"language": "zh"}'},
        ]
        return [{"text": "Which language?", "buttons": buttons}]
    if message == "near me":
        return [{"custom": {"learncity": {"text": "Where are you?", "request_location": True}}}]
    if message.startswith("/share_location"):
        point = json.loads(message.removeprefix("/share_location"))
        card = {
            "id": "space-1",
            "type": "space",
            "name": "Nanhu Library",
            "place": "1 Lake Road",
            "schedule": "Mon-Sat 9:00-20:00",
            "free": True,
            "distance_m": 420.0,
            "latitude": point["latitude"],
            "longitude": point["longitude"],
        }
        return [{"custom": {"learncity": {"text": "Near you:", "cards": [card]}}}]
    return [{"text": f"you said: {message}"}]


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    with FakeRasa(_scripted) as rasa:
        yield rasa


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChatApi]:
    with FakeWeChatApi() as api:
        yield api


@pytest.fixture
def settings(fake_wechat: FakeWeChatApi, tmp_path: Path, database: str) -> Settings:
    return wechat_settings(fake_wechat, tmp_path, database)


@pytest.fixture
async def gateway(
    fake_rasa: FakeRasa, settings: Settings, database: str
) -> AsyncIterator[WeChatCallbacks]:
    conversation = Conversation(fake_rasa.url, database_url=database)
    async with serving_gateway(settings, conversation) as (url, _):
        yield callbacks_for(settings, url)


@pytest.fixture
async def plain_gateway(
    fake_rasa: FakeRasa, fake_wechat: FakeWeChatApi, tmp_path: Path, database: str
) -> AsyncIterator[WeChatCallbacks]:
    """An account in plain mode (no WECHAT_AES_KEY): callbacks travel unencrypted."""
    settings = wechat_settings(fake_wechat, tmp_path, database, aes_key="")
    conversation = Conversation(fake_rasa.url, database_url=database)
    async with serving_gateway(settings, conversation) as (url, _):
        yield callbacks_for(settings, url)


async def test_handshake_echoes_with_the_right_signature_only(
    gateway: WeChatCallbacks, caplog: pytest.LogCaptureFixture
) -> None:
    good = await gateway.handshake("echo-1234567890")
    assert (good.status_code, good.text) == (200, "echo-1234567890")
    with caplog.at_level(logging.WARNING, logger="bot.channels.wechat"):
        bad = await gateway.handshake("echo-0987654321", bad_signature=True)
    assert bad.status_code == 403
    assert "echo-0987654321" not in bad.text
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused, "a refused request leaves a log line"
    assert all(WECHAT_TOKEN not in line for line in caplog.messages)


async def test_plain_text_is_answered_passively(
    plain_gateway: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    gateway = plain_gateway
    response = await gateway.post(gateway.text("oPLAIN1", "hello there"))
    assert "<Encrypt>" not in response.text
    reply = gateway.reply_fields(response)
    assert response.status_code == 200
    assert reply["ToUserName"] == "oPLAIN1" and reply["FromUserName"] == ACCOUNT_ID
    assert reply["MsgType"] == "text"
    assert reply["Content"] == "you said: hello there"
    assert fake_rasa.messages_from("wechat:oPLAIN1") == ["hello there"]


async def test_safe_mode_message_is_answered_encrypted(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    response = await gateway.post(gateway.text("oSAFE1", "周末有课吗"), encrypted=True)
    envelope = response.text
    assert "<Encrypt>" in envelope and "周末" not in envelope
    reply = gateway.reply_fields(response)  # checks MsgSignature, decrypts, checks the AppID
    assert reply["Content"] == "you said: 周末有课吗"
    assert reply["ToUserName"] == "oSAFE1"
    assert fake_rasa.messages_from("wechat:oSAFE1") == ["周末有课吗"]


@pytest.mark.parametrize("encrypted", [False, True])
async def test_a_bad_signature_is_refused_and_nothing_is_processed(
    gateway: WeChatCallbacks, plain_gateway: WeChatCallbacks, fake_rasa: FakeRasa, encrypted: bool
) -> None:
    gateway = gateway if encrypted else plain_gateway
    xml = gateway.text("oFORGED", "do not answer me")
    response = await gateway.post(xml, encrypted=encrypted, bad_signature=True)
    assert response.status_code == 403
    await holds_for_async(
        lambda: fake_rasa.messages_from("wechat:oFORGED") == [], 0.3, "nothing reaches Rasa"
    )


async def test_a_wrong_msg_signature_in_safe_mode_is_refused(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    sealed = gateway.encrypt(gateway.text("oFORGED2", "hi").encode())
    query = gateway.signed_query(extra="some other ciphertext")
    query |= {"encrypt_type": "aes", "openid": "oFORGED2"}
    body = f"<xml><ToUserName>{ACCOUNT_ID}</ToUserName><Encrypt>{sealed}</Encrypt></xml>"
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url, params=query, content=body)
    assert response.status_code == 403
    assert fake_rasa.messages_from("wechat:oFORGED2") == []


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><ToUserName><![CDATA[gh_learncity0001]]></ToUserName>
<FromUserName><![CDATA[oBOMB]]></FromUserName><CreateTime>1</CreateTime>
<MsgType><![CDATA[text]]></MsgType><Content>&lol4;</Content><MsgId>1</MsgId></xml>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName><![CDATA[gh_learncity0001]]></ToUserName>
<FromUserName><![CDATA[oBOMB]]></FromUserName><CreateTime>1</CreateTime>
<MsgType><![CDATA[text]]></MsgType><Content>&secret;</Content><MsgId>2</MsgId></xml>"""
DOCTYPE_ONLY = """<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">
<xml><ToUserName><![CDATA[gh_learncity0001]]></ToUserName>
<FromUserName><![CDATA[oBOMB]]></FromUserName><CreateTime>1</CreateTime>
<MsgType><![CDATA[text]]></MsgType><Content>hi</Content><MsgId>3</MsgId></xml>"""


@pytest.mark.parametrize("encrypted", [False, True])
@pytest.mark.parametrize(
    "body", [BILLION_LAUGHS, EXTERNAL_ENTITY, DOCTYPE_ONLY], ids=["bomb", "external", "dtd"]
)
async def test_xml_with_a_dtd_or_entities_is_rejected(
    gateway: WeChatCallbacks,
    plain_gateway: WeChatCallbacks,
    fake_rasa: FakeRasa,
    body: str,
    encrypted: bool,
) -> None:
    gateway = gateway if encrypted else plain_gateway
    response = await gateway.post(body, encrypted=encrypted)
    assert response.status_code == 400
    assert "lol" not in response.text and "root:" not in response.text
    assert fake_rasa.messages_from("wechat:oBOMB") == []


async def test_location_message_sends_the_point_to_the_assistant_and_lists_places(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    xml = gateway.location("oLOC1", 31.2304, 121.4737, label="海林市南湖区")
    reply = gateway.reply_fields(await gateway.post(xml))
    (sent,) = fake_rasa.messages_from("wechat:oLOC1")
    assert sent.startswith("/share_location")
    assert json.loads(sent.removeprefix("/share_location")) == {
        "latitude": 31.2304,
        "longitude": 121.4737,
    }
    lines = reply["Content"].splitlines()
    assert "1. Nanhu Library" in lines
    assert "   1 Lake Road · Mon-Sat 9:00-20:00 · free · 420 m" in lines


async def test_subscribe_greets_and_unsubscribe_marks_unreachable(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa, database: str
) -> None:
    greeted = gateway.reply_fields(await gateway.post(gateway.event("oFOLLOW", "subscribe")))
    assert fake_rasa.messages_from("wechat:oFOLLOW") == ["/greet"]
    assert greeted["Content"] == "you said: /greet"
    with session_scope(database) as session:
        subscribe_events(session, "wechat:oFOLLOW", consent=True)
    left = await gateway.post(gateway.event("oFOLLOW", "unsubscribe"))
    assert left.text == "success"
    with session_scope(database) as session:
        assert not is_reachable(session, "wechat:oFOLLOW")
    assert fake_rasa.messages_from("wechat:oFOLLOW") == ["/greet"]


async def test_menu_click_sends_its_event_key_as_a_payload(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    await gateway.post(gateway.event("oMENU", "CLICK", event_key="help"))
    await gateway.post(gateway.event("oMENU", "CLICK", event_key='/search_course{"topic": "art"}'))
    assert fake_rasa.messages_from("wechat:oMENU") == ["/help", '/search_course{"topic": "art"}']


async def test_buttons_become_numbers_and_replying_a_number_presses_it(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    offered = gateway.reply_fields(await gateway.post(gateway.text("oNUM", "choose")))
    assert "回复 2：中文" not in offered["Content"]  # the reply is in English
    assert "Reply 1 for: English" in offered["Content"]
    assert "Reply 2 for: 中文" in offered["Content"]
    await gateway.post(gateway.text("oNUM", "２"))  # full-width digit, as Chinese keyboards type
    await gateway.post(gateway.text("oNUM", "9"))  # not offered: stays text
    assert fake_rasa.messages_from("wechat:oNUM")[1:] == ['/set_language{"language": "zh"}', "9"]


async def test_request_location_explains_the_plus_menu(gateway: WeChatCallbacks) -> None:
    reply = gateway.reply_fields(await gateway.post(gateway.text("oWHERE", "near me")))
    assert reply["Content"].startswith("Where are you?")
    assert '"+"' in reply["Content"] and "Location" in reply["Content"]


async def test_unsupported_message_types_get_a_kind_hint_without_asking_the_assistant(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    reply = gateway.reply_fields(await gateway.post(gateway.image("oPIC")))
    assert "位置" in reply["Content"] and "location" in reply["Content"]
    assert fake_rasa.messages_from("wechat:oPIC") == []


async def test_a_long_answer_is_passive_first_then_customer_service_in_order(
    gateway: WeChatCallbacks, fake_wechat: FakeWeChatApi
) -> None:
    reply = gateway.reply_fields(await gateway.post(gateway.text("oLONG", "long please")))
    expected = "\n\n".join([LONG_PARAGRAPH] * 6)
    count = len(split_text(expected, TEXT_LIMIT_BYTES, utf8_length))
    rest = await fake_wechat.wait_for_messages("oLONG", count=count - 1)
    pieces = [reply["Content"]] + [m.content for m in rest]
    assert count >= 3 and len(pieces) == count
    assert all(utf8_length(piece) <= 2048 for piece in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == expected.replace("\n", "").replace(
        " ", ""
    )


@pytest.fixture
async def slow_gateway(
    fake_rasa: FakeRasa, fake_wechat: FakeWeChatApi, tmp_path: Path, database: str
) -> AsyncIterator[tuple[WeChatCallbacks, SlowProxy]]:
    """The assistant 1.5 s away, the reply budget 0.5 s: every answer goes the slow way."""
    settings = wechat_settings(fake_wechat, tmp_path, database, reply_budget_seconds=0.5)
    with SlowProxy(fake_rasa.url, delay_seconds=1.5) as proxy:
        conversation = Conversation(proxy.url, database_url=database)
        async with serving_gateway(settings, conversation) as (url, _):
            yield callbacks_for(settings, url), proxy


async def test_a_slow_answer_says_success_then_sends_one_customer_service_message(
    slow_gateway: tuple[WeChatCallbacks, SlowProxy], fake_wechat: FakeWeChatApi
) -> None:
    callbacks, _ = slow_gateway
    response = await callbacks.post(callbacks.text("oSLOW", "take your time"))
    assert (response.status_code, response.text) == (200, "success")
    (message,) = await fake_wechat.wait_for_messages("oSLOW")
    assert (message.msgtype, message.content) == ("text", "you said: take your time")
    await holds_for_async(lambda: len(fake_wechat.sent_to("oSLOW")) == 1, 1.0, "one message")


async def test_retries_of_one_msgid_are_processed_once_and_answered_once(
    slow_gateway: tuple[WeChatCallbacks, SlowProxy], fake_wechat: FakeWeChatApi
) -> None:
    callbacks, proxy = slow_gateway
    xml = callbacks.text("oRETRY", "only once please")
    responses = await callbacks.post_with_retries(xml, attempts=4, interval=0.6)
    assert [r.text for r in responses if not isinstance(r, Exception)] == ["success"] * 4
    await fake_wechat.wait_for_messages("oRETRY")
    await holds_for_async(lambda: len(fake_wechat.sent_to("oRETRY")) == 1, 1.0, "one message")
    assert len(proxy.bodies_from("wechat:oRETRY")) == 1


async def test_a_retry_after_a_lost_passive_reply_gets_the_same_reply_again(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa, fake_wechat: FakeWeChatApi
) -> None:
    xml = gateway.text("oLOST", "say it again")
    first = gateway.reply_fields(await gateway.post(xml))
    again = gateway.reply_fields(await gateway.post(xml))
    assert first["Content"] == again["Content"] == "you said: say it again"
    assert fake_rasa.messages_from("wechat:oLOST") == ["say it again"]
    assert fake_wechat.sent_to("oLOST") == []


async def test_the_access_token_is_reused_then_refreshed_when_expired(
    slow_gateway: tuple[WeChatCallbacks, SlowProxy], fake_wechat: FakeWeChatApi
) -> None:
    callbacks, _ = slow_gateway
    for number, text in enumerate(["one", "two"], start=1):
        await callbacks.post(callbacks.text("oTOKEN", text))
        await fake_wechat.wait_for_messages("oTOKEN", count=number)
    assert fake_wechat.token_fetches == 1
    fake_wechat.expire_tokens()
    await callbacks.post(callbacks.text("oTOKEN", "three"))
    sent = await fake_wechat.wait_for_messages("oTOKEN", count=3)
    assert [m.content for m in sent] == ["you said: one", "you said: two", "you said: three"]
    assert fake_wechat.token_fetches == 2
    assert any(r["errcode"] == 42001 for r in fake_wechat.rejected)


async def test_sender_pushes_customer_service_text_and_reports_unfollowed_citizens(
    fake_wechat: FakeWeChatApi, settings: Settings, database: str
) -> None:
    push = wechat.sender(settings)
    assert push is not None and push.channel == "wechat"
    replies = [Reply(text="New: pottery festival", buttons=[Button("Tell me more", "/more")])]
    try:
        await push.send("oPUSH", replies)
        (message,) = fake_wechat.sent_to("oPUSH")
        assert message.content == "New: pottery festival\n\nReply 1 for: Tell me more"
        with session_scope(database) as session:
            subscribe_events(session, "wechat:oGONE", consent=True)
        fake_wechat.unfollowed.add("oGONE")
        with pytest.raises(RecipientUnreachableError):
            await push.send("oGONE", replies)
        with session_scope(database) as session:
            assert not is_reachable(session, "wechat:oGONE")
    finally:
        await push.close()


def test_nothing_is_served_without_a_token(tmp_path: Path) -> None:
    settings = Settings(learncity_data_dir=tmp_path, wechat_token=SecretStr(""))
    conversation = Conversation("http://127.0.0.1:9")
    channels = build_channels(conversation, settings)
    assert [channel.name for channel in channels] == ["web"]
    assert wechat.sender(settings) is None


@pytest.mark.parametrize(
    ("token", "aes_key", "named"),
    [
        ("has spaces in it", "", "WECHAT_TOKEN"),
        ("goodToken1", "too-short", "WECHAT_AES_KEY"),
        ("goodToken1", "!" * 43, "WECHAT_AES_KEY"),
    ],
)
def test_a_misconfigured_account_is_refused_naming_the_setting(
    tmp_path: Path, token: str, aes_key: str, named: str
) -> None:
    settings = Settings(
        learncity_data_dir=tmp_path,
        wechat_token=SecretStr(token),
        wechat_aes_key=SecretStr(aes_key),
        wechat_app_id="wx0000000000000001",
    )
    with pytest.raises(ValueError, match=named):
        build_channels(Conversation("http://127.0.0.1:9"), settings)


@pytest.mark.parametrize("budget", ["0", "-1", "5", "6.5", "nan"])
def test_a_reply_budget_outside_wechats_five_seconds_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, budget: str
) -> None:
    monkeypatch.setenv("WECHAT_REPLY_BUDGET_SECONDS", budget)
    with pytest.raises(ValueError, match="WECHAT_REPLY_BUDGET_SECONDS must be more than 0"):
        Settings(learncity_data_dir=tmp_path)


def test_the_channel_waits_as_long_as_the_reply_budget_setting_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings(learncity_data_dir=tmp_path).wechat_reply_budget_seconds == 4.0
    monkeypatch.setenv("WECHAT_REPLY_BUDGET_SECONDS", "2.5")
    settings = Settings(learncity_data_dir=tmp_path, wechat_token=SecretStr(WECHAT_TOKEN))
    channel = wechat.WeChatChannel(Conversation("http://127.0.0.1:9"), settings)
    assert channel.reply_budget_seconds == 2.5


async def test_a_safe_mode_message_for_another_appid_is_rejected(
    gateway: WeChatCallbacks, fake_rasa: FakeRasa, settings: Settings
) -> None:
    other_account = WeChatCallbacks(
        gateway.url.removesuffix("/wechat"),
        token=WECHAT_TOKEN,
        app_id="wx9999999999999999",
        encoding_aes_key=settings.wechat_aes_key.get_secret_value(),
    )
    xml = other_account.text("oOTHERAPP", "hello")
    response = await other_account.post(xml, encrypted=True)
    assert response.status_code == 400
    assert fake_rasa.messages_from("wechat:oOTHERAPP") == []
