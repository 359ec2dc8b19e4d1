"""Attacks on the WeChat callback with a leaked query string: each is refused, the victim untouched.

A proxy's access log leaks the callback's query string (signature, timestamp, nonce, even
msg_signature); the URL signature does not cover the body. The attacker replays it with a
body of their own as the victim ("my data", "forget me"), downgrades a safe-mode request to
a plain body, replays an old one, or forges msg_signature. The gateway is real (uvicorn, real
HTTP), WeChat's side is tests/fakes/wechat_api.py, and the assistant a scripted Rasa
endpoint whose "forget me" answer makes the gateway really erase the victim's records.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import Conversation
from citizens import subscribe_events, subscribers_for
from core.database import session_scope
from core.settings import Settings
from tests.bot.wechat_support import callbacks_for, serving_gateway, wechat_settings
from tests.fakes.rasa_rest import FakeRasa
from tests.fakes.wechat_api import ACCOUNT_ID, FakeWeChatApi, WeChatCallbacks

VICTIM = "oVICTIM0001"
VICTIM_DATA = "You are subscribed to: pottery in Nanhu"


def _assistant(sender: str, message: str) -> list[dict[str, Any]]:
    """Answers as the real dialogue would for the two requests an attacker wants."""
    if message in ("my data", "/my_data"):
        return [{"text": VICTIM_DATA}]
    if message in ("forget me", "/forget_me"):
        return [{"custom": {"learncity": {"text": "Erased.", "erase_conversation": True}}}]
    return [{"text": f"you said: {message}"}]


@pytest.fixture
def database(database: str) -> str:
    """The shared fresh database, with the victim's subscription in it."""
    url = database
    with session_scope(url) as session:
        subscribe_events(session, f"wechat:{VICTIM}", topic="pottery", consent=True)
    return url


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    with FakeRasa(_assistant) as rasa:
        yield rasa


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChatApi]:
    with FakeWeChatApi() as api:
        yield api


async def _serve(
    fake_rasa: FakeRasa, settings: Settings, database: str
) -> AsyncIterator[WeChatCallbacks]:
    conversation = Conversation(fake_rasa.url, database_url=database)
    async with serving_gateway(settings, conversation) as (url, _):
        yield callbacks_for(settings, url)


@pytest.fixture
async def safe_mode(
    fake_rasa: FakeRasa, fake_wechat: FakeWeChatApi, tmp_path: Path, database: str
) -> AsyncIterator[WeChatCallbacks]:
    """An account with WECHAT_AES_KEY set: safe mode."""
    settings = wechat_settings(fake_wechat, tmp_path, database)
    async for callbacks in _serve(fake_rasa, settings, database):
        yield callbacks


@pytest.fixture(params=["plain mode", "safe mode"])
async def either_mode(
    request: pytest.FixtureRequest,
    fake_rasa: FakeRasa,
    fake_wechat: FakeWeChatApi,
    tmp_path: Path,
    database: str,
) -> AsyncIterator[WeChatCallbacks]:
    """An account without WECHAT_AES_KEY (the URL signature is all there is), then with it."""
    aes_key = "" if request.param == "plain mode" else None
    settings = wechat_settings(fake_wechat, tmp_path, database, aes_key=aes_key)
    async for callbacks in _serve(fake_rasa, settings, database):
        yield callbacks


def _victim_untouched(fake_rasa: FakeRasa, database: str) -> None:
    asked = fake_rasa.messages_from(f"wechat:{VICTIM}")
    assert [m for m in asked if m in ("my data", "/my_data", "forget me", "/forget_me")] == []
    with session_scope(database) as session:
        assert subscribers_for(session) == [f"wechat:{VICTIM}"]


async def test_a_leaked_query_string_replayed_with_another_body_is_refused(
    either_mode: WeChatCallbacks, fake_rasa: FakeRasa, database: str
) -> None:
    callbacks = either_mode
    query, body = callbacks.signed_request(callbacks.text(VICTIM, "hello"))
    assert (await callbacks.post_raw(query, body)).status_code == 200
    for wish in ("my data", "forget me"):
        _, forged = callbacks.signed_request(callbacks.text(VICTIM, wish))
        response = await callbacks.post_raw(query, forged)
        assert response.status_code == 403
        assert VICTIM_DATA not in response.text
    _victim_untouched(fake_rasa, database)
    assert fake_rasa.messages_from(f"wechat:{VICTIM}") == ["hello"]


async def test_the_same_request_replayed_is_answered_once_and_runs_nothing_new(
    safe_mode: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    query, body = safe_mode.signed_request(safe_mode.text(VICTIM, "hello"))
    first = await safe_mode.post_raw(query, body)
    again = await safe_mode.post_raw(query, body)
    assert (first.status_code, again.status_code) == (200, 200)
    assert fake_rasa.messages_from(f"wechat:{VICTIM}") == ["hello"]


async def test_a_plain_body_is_refused_when_safe_mode_is_configured(
    safe_mode: WeChatCallbacks, fake_rasa: FakeRasa, database: str
) -> None:
    # A correctly signed query without encrypt_type=aes, and the victim's wish in clear text.
    for wish in ("my data", "forget me"):
        query, body = safe_mode.signed_request(safe_mode.text(VICTIM, wish), encrypted=False)
        response = await safe_mode.post_raw(query, body)
        assert response.status_code == 403
        assert VICTIM_DATA not in response.text
    # The leaked safe-mode query (with its msg_signature) stripped of encrypt_type, too.
    leaked, _ = safe_mode.signed_request(safe_mode.text(VICTIM, "hello"))
    stripped = {key: value for key, value in leaked.items() if key != "encrypt_type"}
    _, plain = safe_mode.signed_request(safe_mode.text(VICTIM, "forget me"), encrypted=False)
    assert (await safe_mode.post_raw(stripped, plain)).status_code == 403
    _victim_untouched(fake_rasa, database)


@pytest.mark.parametrize("skew_seconds", [-360, 360, -86_400])
async def test_a_stale_timestamp_is_refused(
    either_mode: WeChatCallbacks, skew_seconds: int, fake_rasa: FakeRasa, database: str
) -> None:
    callbacks = either_mode
    stale = int(time.time()) + skew_seconds
    query, body = callbacks.signed_request(callbacks.text(VICTIM, "forget me"), timestamp=stale)
    response = await callbacks.post_raw(query, body)
    assert response.status_code == 403
    _victim_untouched(fake_rasa, database)


async def test_a_timestamp_within_five_minutes_is_accepted(
    safe_mode: WeChatCallbacks, fake_rasa: FakeRasa
) -> None:
    recent = int(time.time()) - 200  # WeChat's retries and a clock a little off
    query, body = safe_mode.signed_request(safe_mode.text("oCLOCK", "hello"), timestamp=recent)
    response = await safe_mode.post_raw(query, body)
    assert response.status_code == 200
    assert safe_mode.reply_fields(response)["Content"] == "you said: hello"


async def test_a_forged_msg_signature_is_refused(
    safe_mode: WeChatCallbacks, fake_rasa: FakeRasa, database: str
) -> None:
    # The attacker has a validly signed query but not the AES key: whatever they encrypt
    # and however they sign it, msg_signature must cover exactly the Encrypt it came with.
    query, body = safe_mode.signed_request(safe_mode.text(VICTIM, "hello"))
    sealed_elsewhere = safe_mode.encrypt(safe_mode.text(VICTIM, "forget me").encode())
    forged = (
        f"<xml><ToUserName>{ACCOUNT_ID}</ToUserName><Encrypt>{sealed_elsewhere}</Encrypt></xml>"
    ).encode()
    assert (await safe_mode.post_raw(query, forged)).status_code == 403
    without = {key: value for key, value in query.items() if key != "msg_signature"}
    assert (await safe_mode.post_raw(without, forged)).status_code == 403
    _victim_untouched(fake_rasa, database)
