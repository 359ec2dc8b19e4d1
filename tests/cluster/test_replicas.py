"""Two replicas of every role on PostgreSQL and Redis behind a balancer, as on several machines.

Each role is its own `learncity serve ROLE` process (tests/cluster/support.py): two gateways
(Telegram in webhook mode, a WeChat account) and two action servers behind a round-robin
balancer, two Rasa servers sharing Rasa's RedisLockStore and the SQL tracker store on a
PostgreSQL server of the test's own. Needs PostgreSQL binaries and Redis at 127.0.0.1:6379
(the tests fail, naming the missing one, otherwise: tests/services.py). The Rasa servers start once for the module (a minute or
more); the test that kills replicas runs last.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, text

from bench.cluster_bench import cluster_meter
from bench.cluster_sweep import SetUp, measure_rate
from bot.messages import Reply
from nlu.serving import WEBHOOK_PATH
from tests.cluster.load import CitizenLoad, deliver_like_telegram
from tests.cluster.support import (
    REDIS_URL,
    TELEGRAM_SECRET,
    WECHAT_TOKEN,
    Cluster,
    running_cluster,
    trained_model,
)
from tests.conversations.support import buttons, catalog_text, exported, texts
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi, WeChatCallbacks
from tests.services import require_postgres_binaries, require_redis
from tests.waiting import holds_for_async, wait_until_async

pytestmark = pytest.mark.slow
OPEN_FORM = '/register_interest{"topic": "chess"}'  # the "register" button


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi() as api:
        yield api


@pytest.fixture(scope="module")
def wechat_api() -> Iterator[FakeWeChatApi]:
    with FakeWeChatApi() as api:
        yield api


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    telegram: FakeTelegramApi,
    wechat_api: FakeWeChatApi,
) -> Iterator[Cluster]:
    require_redis(REDIS_URL).close()  # a missing service fails the test, naming it
    require_postgres_binaries()
    root = tmp_path_factory.mktemp("cluster")
    model = trained_model()
    with running_cluster(root, telegram, wechat_api, model, small_pools=("gateway-2",)) as cluster:
        yield cluster


def _replica_urls(cluster: Cluster) -> list[str]:
    return [f"http://127.0.0.1:{gateway.port}" for gateway in cluster.of_role("gateway")]


async def test_a_telegram_update_delivered_to_both_gateways_is_answered_once(
    cluster: Cluster, telegram: FakeTelegramApi
) -> None:
    """Both deliveries end with a 200 (one may first hear 503 "being answered" and come back,
    as Telegram does); the citizen gets the answer once."""
    update = telegram.text_update(7001, "hello")
    async with httpx.AsyncClient(timeout=60) as client:
        delivered = await asyncio.gather(
            *(
                deliver_like_telegram(client, f"{url}/telegram/webhook", update)
                for url in _replica_urls(cluster)
            )
        )
    assert delivered == [True, True]
    answer = await telegram.wait_until_quiet(7001, quiet=3.0, timeout=60)
    once = await _single_answer(telegram, cluster, 7002)
    assert len(answer) == len(once), "the same update must be answered as a single delivery is"


async def _single_answer(telegram: FakeTelegramApi, cluster: Cluster, chat_id: int) -> list:
    update = telegram.text_update(chat_id, "hello")
    await telegram.post_update(f"{cluster.url}/telegram/webhook", update, TELEGRAM_SECRET)
    return await telegram.wait_until_quiet(chat_id, quiet=3.0, timeout=60)


async def test_a_wechat_message_delivered_to_both_gateways_is_answered_once(
    cluster: Cluster, wechat_api: FakeWeChatApi
) -> None:
    replicas = [
        WeChatCallbacks(url, token=WECHAT_TOKEN, app_id=wechat_api.app_id)
        for url in _replica_urls(cluster)
    ]
    openid = "o-cluster-citizen-1"
    xml = replicas[0].text(openid, "hello", msg_id=replicas[0].next_msg_id())
    responses = await asyncio.gather(*(replica.post(xml) for replica in replicas))
    passive = [
        replica.reply_fields(response).get("Content", "")
        for replica, response in zip(replicas, responses, strict=True)
        if response.content not in (b"", b"success")
    ]

    def answers() -> list[str]:
        return passive + [message.content for message in wechat_api.sent_to(openid)]

    await wait_until_async(lambda: answers(), 10.0, "an answer to the WeChat message")
    # Past the reply budget a late customer-service message would show: none may come.
    await holds_for_async(lambda: len(answers()) <= 1, 6.0, "no second answer")
    assert len(answers()) == 1, answers()


async def test_a_form_filled_on_alternating_rasa_servers_keeps_the_conversation(
    cluster: Cluster,
) -> None:
    """Each turn goes to the other Rasa server: the form still asks the next question."""
    sender = "web:cluster-form-1"
    servers = itertools.cycle(cluster.rasa_urls)
    headers = {"Authorization": f"Bearer {cluster.rasa_token}"}

    async def talk(client: httpx.AsyncClient, text: str) -> list[Reply]:
        response = await client.post(
            f"{next(servers)}{WEBHOOK_PATH}",
            json={"sender": sender, "message": text, "metadata": {"channel": "web"}},
            headers=headers,
        )
        response.raise_for_status()
        return [Reply.from_rasa(item) for item in response.json()]

    async with httpx.AsyncClient(timeout=60) as client:
        asked = await talk(client, OPEN_FORM)
        assert catalog_text("ask_need_district", "en") in texts(asked)
        times = await talk(client, "in Nanhu")
        assert catalog_text("ask_need_times", "en") in texts(times)
        replies = times
        for _ in range(6):
            payloads = [button.payload for button in buttons(replies)]
            if "/affirm" in payloads:
                break
            replies = await talk(client, payloads[0])
        assert "/affirm" in [button.payload for button in buttons(replies)], texts(replies)
        await talk(client, "/affirm")
    needs = exported(cluster.database_url, sender)["learning_needs"]
    assert [(need["topic"], need["district"]) for need in needs] == [("chess", "Nanhu")]


async def test_one_citizens_simultaneous_turns_on_both_servers_are_all_kept_in_turn(
    cluster: Cluster,
) -> None:
    """Rasa's lock store on Redis: turns sent at once to two servers are taken one at a time,
    so every one is stored and answered."""
    sender = "web:cluster-simultaneous-1"
    headers = {"Authorization": f"Bearer {cluster.rasa_token}"}
    said = [f"hello number {n}" for n in range(8)]
    async with httpx.AsyncClient(timeout=120) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{url}{WEBHOOK_PATH}",
                    json={"sender": sender, "message": text, "metadata": {"channel": "web"}},
                    headers=headers,
                )
                for url, text in zip(itertools.cycle(cluster.rasa_urls), said, strict=False)
            )
        )
        assert [response.status_code for response in responses] == [200] * len(said)
        assert all(response.json() for response in responses), "every turn is answered"
        tracker = await client.get(
            f"{cluster.rasa_urls[0]}/conversations/{sender}/tracker",
            params={"token": cluster.rasa_token},
        )
    user_texts = [event["text"] for event in tracker.json()["events"] if event["event"] == "user"]
    assert sorted(user_texts) == sorted(said)


async def test_a_gateway_with_a_pool_of_two_answers_ten_parallel_turns(cluster: Cluster) -> None:
    """gateway-2 runs with DATABASE_POOL_SIZE=2 and no overflow (docs/deployment.md): ten web
    chat turns at once all get an answer, none waits out the pool, and PostgreSQL never sees a
    third connection from it."""
    gateway = cluster.roles["gateway-2"]
    most_open, done = 0, asyncio.Event()
    engine = create_engine(cluster.database_url)
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")

    def open_now() -> int:
        with engine.connect() as connection:
            return int(connection.scalar(query, {"name": "learncity-gateway-2"}) or 0)

    async def watch() -> None:
        nonlocal most_open
        while not done.is_set():
            most_open = max(most_open, await asyncio.to_thread(open_now))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"http://127.0.0.1:{gateway.port}/api/chat",
                        json={"session_id": f"pool-two-{n}", "text": "hello", "language": "en"},
                    )
                    for n in range(10)
                )
            )
    finally:
        done.set()
        await watcher
        engine.dispose()
    assert [response.status_code for response in responses] == [200] * 10
    assert all(response.json()["replies"] for response in responses), "every turn is answered"
    assert "QueuePool limit" not in gateway.log.read_text(errors="replace")
    assert 1 <= most_open <= 2, f"{most_open} connections from a gateway with a pool of 2"


async def test_the_benchs_open_loop_accounts_for_every_message_it_offered(
    cluster: Cluster, telegram: FakeTelegramApi
) -> None:
    """`cluster_bench --rate` (bench/cluster_sweep.py) briefly at a low rate through the
    balancer: messages go out at the offered rate whatever the answers do, each one sent ends
    in exactly one outcome, none is answered or stored twice, and every role is metered."""
    set_up = SetUp(
        "two of each role", cluster.url, cluster.database_url, cluster_meter(cluster), True
    )
    args = argparse.Namespace(citizens=12, warmup=2.0, seconds=8.0, p95_ms=500.0)

    result = await measure_rate(set_up, telegram, 4.0, args)

    print(f"\nopen loop at 4 messages a second for 8 s: {result}")
    assert 31 <= result["sent"] <= 33, "4 a second for 8 s, on time"
    outcomes = ("answered", "try_again", "unreachable", "lost")
    assert result["sent"] == sum(result[outcome] for outcome in outcomes)
    assert result["lost"] == 0 and result["duplicated"] == 0 and result["stored_twice"] == 0
    assert result["answered"] > 0 and 0 < result["p50_ms"] <= result["p95_ms"]
    assert all(result["cpu_ms_per_message"][role] > 0 for role in ("gateway", "rasa", "actions"))
    assert all(result["memory_mb_per_replica"][role] > 0 for role in ("gateway", "rasa"))


async def test_one_replica_of_each_role_killed_under_load_loses_and_doubles_nothing(
    cluster: Cluster, telegram: FakeTelegramApi
) -> None:
    """Web chat and Telegram citizens write through the balancer while one gateway, one Rasa
    server and one action server are killed with -9. Every message gets exactly one answer
    (at worst the kind "try again", or for the web page "unreachable" when its request died
    with the gateway): none is left unanswered, none is answered twice."""
    load = CitizenLoad(
        cluster.url,
        cluster.database_url,
        telegram,
        web_citizens=4,
        telegram_citizens=4,
        languages=("en", "zh"),  # two Telegram citizens per script: what a line usually gets
    )
    async with load.running():
        await load.until_answered(20)  # everyone is talking before anything is killed
        for name in ("gateway-1", "rasa-1", "actions-1"):
            await asyncio.to_thread(cluster.roles[name].kill)
            await load.until_answered(load.answered + 10)
    report = await load.settled()
    print(f"\nkilled gateway-1, rasa-1, actions-1 under load: {report}")
    assert report.silent == [], "messages nobody answered"
    assert report.doubled == [], "messages answered twice"
    assert report.answered + report.try_again >= 60
