"""Two gateway replicas on one real Redis answer a message delivered to both once, and share
WeChat nonces and flood control (REDIS_URL; bot/shared_state.py).

Needs Redis at 127.0.0.1:6379 (a test fails, naming it, when it does not answer). Each test writes
under its own key prefix and deletes it afterwards, so tests never see each other's keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from bot.conversation import conversation_for
from bot.kind_replies import PLEASE_WAIT, SLOW_DOWN, kind_text
from bot.messages import IncomingMessage
from bot.shared_state import (
    RedisFloodControl,
    RedisNonces,
    RedisSeen,
    nonce_store,
    seen_once,
)
from bot.stack import free_port
from core.settings import Settings
from tests.bot import telegram_support, wechat_support
from tests.conftest import REDIS_URL
from tests.fakes.rasa_rest import FakeRasa
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi, WeChatCallbacks


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as rasa:
        yield rasa


def _shared(settings: Settings, prefix: str, **update: object) -> Settings:
    return settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_key_prefix": prefix, **update}
    )


@contextlib.asynccontextmanager
async def _two_wechat_replicas(
    api: FakeWeChatApi, tmp_path: Path, database: str, rasa: FakeRasa, prefix: str
) -> AsyncIterator[list[WeChatCallbacks]]:
    """Two gateways of one plain-mode Official Account, each on its own port, one Redis."""
    first = _shared(wechat_support.wechat_settings(api, tmp_path, database, aes_key=""), prefix)
    second = first.model_copy(update={"gateway_port": free_port()})
    async with contextlib.AsyncExitStack() as stack:
        callbacks = []
        for settings in (first, second):
            conversation = conversation_for(settings, rasa.url)
            url, _ = await stack.enter_async_context(
                wechat_support.serving_gateway(settings, conversation)
            )
            callbacks.append(wechat_support.callbacks_for(settings, url))
        yield callbacks


async def test_the_same_wechat_msgid_on_two_replicas_is_answered_once(
    tmp_path: Path, database: str, fake_rasa: FakeRasa, redis_prefix: str
) -> None:
    with FakeWeChatApi() as api:
        async with _two_wechat_replicas(api, tmp_path, database, fake_rasa, redis_prefix) as (
            one,
            other,
        ):
            message = one.text("oREPLICA1", "hello from two replicas", msg_id=880001)
            first = await one.post(message)
            again = await other.post(message)
    assert (first.status_code, again.status_code) == (200, 200)
    assert one.reply_fields(first)["Content"] == "you said: hello from two replicas"
    assert again.text == "success"  # WeChat's "received": the other replica answered
    assert fake_rasa.messages_from("wechat:oREPLICA1") == ["hello from two replicas"]


async def test_a_wechat_nonce_replayed_to_the_other_replica_is_refused(
    tmp_path: Path, database: str, fake_rasa: FakeRasa, redis_prefix: str
) -> None:
    with FakeWeChatApi() as api:
        async with _two_wechat_replicas(api, tmp_path, database, fake_rasa, redis_prefix) as (
            one,
            other,
        ):
            query, body = one.signed_request(one.text("oREPLICA2", "genuine", msg_id=880002))
            genuine = await one.post_raw(query, body)
            _, forged_body = other.signed_request(other.text("oREPLICA2", "forged", msg_id=880003))
            forged = await other.post_raw(query, forged_body)  # the leaked query, another body
    assert (genuine.status_code, forged.status_code) == (200, 403)
    assert fake_rasa.messages_from("wechat:oREPLICA2") == ["genuine"]


async def test_the_same_telegram_update_on_two_replicas_is_answered_once(
    tmp_path: Path, database: str, fake_rasa: FakeRasa, redis_prefix: str
) -> None:
    chat_id = 770001
    with FakeTelegramApi() as telegram:
        replicas = []
        for _ in range(2):
            settings = telegram_support.telegram_settings(
                telegram, tmp_path, database, webhook=True
            )
            replicas.append(_shared(settings, redis_prefix))
        update = telegram.text_update(chat_id, "hello twice")
        async with contextlib.AsyncExitStack() as stack:
            for settings in replicas:
                await stack.enter_async_context(
                    telegram_support.serving_gateway(
                        settings, conversation_for(settings, fake_rasa.url)
                    )
                )
            statuses = [
                (
                    await telegram.post_update(
                        settings.telegram_webhook_url, update, telegram_support.WEBHOOK_SECRET
                    )
                ).status_code
                for settings in replicas
            ]
            sent = await telegram.wait_until_quiet(chat_id, quiet=1.0)
    assert statuses == [200, 200]
    assert fake_rasa.messages_from(f"telegram:{chat_id}") == ["hello twice"]
    assert telegram_support.texts(sent) == "you said: hello twice"


async def test_flood_control_counts_a_citizen_across_both_replicas(
    tmp_path: Path, database: str, fake_rasa: FakeRasa, redis_prefix: str
) -> None:
    settings = _shared(
        Settings(learncity_data_dir=tmp_path, database_url=database),
        redis_prefix,
        flood_burst=3,
        flood_messages_per_second=0.01,  # nothing refills during the test
    )
    replicas = [conversation_for(settings, fake_rasa.url) for _ in range(2)]
    slow_down = kind_text(SLOW_DOWN, "hello", "en")
    seen = []
    for number in range(6):  # alternating between the two replicas
        message = IncomingMessage(
            sender_id="web:flooder", channel="web", text="hello", language_hint="en"
        )
        replies = await replicas[number % 2].handle(message)
        texts = [reply.text for reply in replies]
        seen.append(
            "answered"
            if texts == ["you said: hello"]
            else "slowed"
            if texts == [slow_down]
            else "dropped"
            if texts == []
            else texts
        )
    calm = await replicas[1].handle(
        IncomingMessage(sender_id="web:calm", channel="web", text="hi", language_hint="en")
    )
    await asyncio.gather(*(replica.close() for replica in replicas))
    assert seen == ["answered"] * 3 + ["slowed", "dropped", "dropped"]
    assert [reply.text for reply in calm] == ["you said: hi"]
    assert len(fake_rasa.messages_from("web:flooder")) == 3


async def test_a_citizen_still_flooding_both_replicas_is_asked_to_wait_once_per_refill(
    tmp_path: Path, database: str, fake_rasa: FakeRasa, redis_prefix: str
) -> None:
    """After the slow-down, a Russian citizen who keeps writing (alternately to both replicas,
    20 messages a second) hears "please wait a moment" in Russian at most once per refill time
    of the shared bucket (burst 2 at 4 a second: 0.5 s), and silence in between."""
    settings = _shared(
        Settings(learncity_data_dir=tmp_path, database_url=database),
        redis_prefix,
        flood_burst=2,
        flood_messages_per_second=4.0,
    )
    replicas = [conversation_for(settings, fake_rasa.url) for _ in range(2)]
    slow_down, please_wait = (
        kind_text(SLOW_DOWN, "привет", "ru"),
        kind_text(PLEASE_WAIT, "привет", "ru"),
    )
    notices: list[tuple[str, float]] = []
    clock = asyncio.get_running_loop().time
    begin = clock()
    number = 0
    # Until the second reminder: it comes about 1 s after the warning, 20 messages later.
    while sum(text == please_wait for text, _ in notices) < 2:
        assert clock() - begin < 20, f"no second reminder within 20 s; saw {notices}"
        message = IncomingMessage(
            sender_id="telegram:4711", channel="telegram", text="привет", language_hint="ru"
        )
        replies = await replicas[number % 2].handle(message)
        texts = [reply.text for reply in replies]
        if texts and not texts[0].startswith("you said"):
            notices.append((texts[0], clock()))
        number += 1
        await asyncio.sleep(0.05)  # the citizen's own pace: 20 messages a second
    await asyncio.gather(*(replica.close() for replica in replicas))
    assert [text for text, _ in notices] == [slow_down, please_wait, please_wait]
    gaps = [later - earlier for (_, earlier), (_, later) in zip(notices, notices[1:], strict=False)]
    assert all(gap >= 0.5 - 0.02 for gap in gaps), gaps  # Redis's clock against ours
    # Held to the rate all along: of about 20 messages a second, about 4 reach the assistant.
    reached = len(fake_rasa.messages_from("telegram:4711"))
    assert reached <= 2 + 4 * (clock() - begin) + 1


async def test_redis_stores_claim_once_and_compare_nonce_bodies(redis_prefix: str) -> None:
    one = redis.asyncio.Redis.from_url(REDIS_URL)
    other = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        claims = [
            await RedisSeen(client, f"{redis_prefix}seen:").first("42", 60)
            for client in (one, other)
        ]
        nonces = [RedisNonces(client, f"{redis_prefix}nonce:") for client in (one, other)]
        same_body = [await store.claim("1700000000:99", "digest-a", 60) for store in nonces]
        other_body = await nonces[1].claim("1700000000:99", "digest-b", 60)
        ttl = await one.ttl(f"{redis_prefix}seen:42")
    finally:
        await one.aclose()
        await other.aclose()
    assert claims == [True, False]
    assert same_body == [True, True]  # WeChat redelivering the same message
    assert other_body is False
    assert 0 < ttl <= 60


async def test_without_redis_url_each_process_keeps_its_own_memory(tmp_path: Path) -> None:
    settings = Settings(learncity_data_dir=tmp_path)
    replicas = [seen_once(settings, "telegram:update") for _ in range(2)]
    claims = [await store.first("7", 60) for store in (*replicas, replicas[0])]
    assert claims == [True, True, False]
    assert not isinstance(replicas[0], RedisSeen)


def test_flood_control_lets_messages_through_when_redis_does_not_answer() -> None:
    unreachable = redis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2
    )
    flood = RedisFloodControl(unreachable, "learncity-test:down:", rate=1, burst=1)
    assert [flood.check("web:someone") for _ in range(3)] == ["allow"] * 3


async def test_without_an_answering_redis_each_replica_falls_back_to_its_own_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(learncity_data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")
    seen = seen_once(settings, "telegram:update")
    nonces = nonce_store(settings)
    with caplog.at_level(logging.ERROR, logger="bot.shared_state"):
        claims = [await seen.first("5", 60) for _ in range(2)]
        nonce_claims = [
            await nonces.claim("1700000000:7", digest, 60) for digest in ("a", "a", "b")
        ]
    assert isinstance(seen, RedisSeen)
    assert claims == [True, False]
    assert nonce_claims == [True, True, False]
    assert [record.getMessage().split(":")[0] for record in caplog.records] == [
        "de-duplication (learncity",
        "WeChat nonces",
    ]


async def test_a_numbered_choice_offered_by_one_replica_is_picked_on_the_other(
    tmp_path: Path, database: str, redis_prefix: str
) -> None:
    def answer(_: str, message: str) -> list[dict]:
        if message == "hello":
            buttons = [
                {"title": "Pottery", "payload": "/pottery"},
                {"title": "Chess", "payload": "/chess"},
            ]
            return [{"text": "Which one?", "buttons": buttons}]
        return [{"text": f"you said: {message}"}]

    with FakeRasa(answer) as rasa, FakeWeChatApi() as api:
        async with _two_wechat_replicas(api, tmp_path, database, rasa, redis_prefix) as (
            one,
            other,
        ):
            offered = await one.post(one.text("oREPLICA3", "hello", msg_id=880010))
            picked = await other.post(other.text("oREPLICA3", "２", msg_id=880011))
    assert "2" in one.reply_fields(offered)["Content"]
    assert other.reply_fields(picked)["Content"] == "you said: /chess"
    assert rasa.messages_from("wechat:oREPLICA3") == ["hello", "/chess"]
