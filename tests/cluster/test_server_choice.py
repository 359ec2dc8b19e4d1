"""With Rasa's lock store on Redis any Rasa server takes any turn; without it, one per citizen."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from bot.conversation import Conversation, conversation_for
from bot.health import HealthMonitor
from bot.kind_replies import TRY_AGAIN, kind_text
from bot.messages import IncomingMessage
from bot.rasa_servers import CONVERSATION_HEADER
from core.database import upgrade_database
from core.settings import REPOSITORY_ROOT, Settings
from nlu.serving import lock_store_config, write_endpoints
from tests.cluster.balancer import HAProxyBalancer
from tests.fakes.rasa_rest import FakeRasa
from tests.services import require_executable


@pytest.fixture
def database(tmp_path: Path) -> str:
    """The gateway reads the help desk's table on every turn: a migrated database."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade_database(url)
    return url


def _message(sender: str, text: str) -> IncomingMessage:
    return IncomingMessage(sender_id=sender, channel="web", text=text)


async def test_with_a_shared_lock_each_citizen_keeps_to_one_server_and_citizens_spread(
    database: str,
) -> None:
    """A citizen's server holds their conversation in memory: their turns go there while it
    answers, and the citizens spread over every server."""
    with FakeRasa() as first, FakeRasa() as second:
        conversation = Conversation(
            [first.url, second.url], shared_lock=True, database_url=database
        )
        await _three_turns_each(conversation, CITIZENS)
    _each_on_one_server_and_both_used(first, second)


CITIZENS = [f"telegram:{4000 + n}" for n in range(12)]


async def _three_turns_each(conversation: Conversation, citizens: list[str]) -> None:
    """Three turns of every citizen through `conversation`, each answered."""
    try:
        for turn in range(3):
            for citizen in citizens:
                replies = await conversation.handle(_message(citizen, f"turn {turn}"))
                assert [reply.text for reply in replies] == [f"you said: turn {turn}"]
    finally:
        await conversation.close()


def _each_on_one_server_and_both_used(first: FakeRasa, second: FakeRasa) -> None:
    on_first = {c for c in CITIZENS if first.messages_from(c)}
    on_second = {c for c in CITIZENS if second.messages_from(c)}
    assert on_first and on_second, "citizens spread over both servers"
    assert on_first.isdisjoint(on_second), "each citizen on one server"
    assert all(len((first if c in on_first else second).messages_from(c)) == 3 for c in CITIZENS)


HAPROXY = Path("/usr/sbin/haproxy")


def _deploy_rasa_balancing() -> list[str]:
    """The balancing lines of deploy/haproxy.cfg's `backend rasa`."""
    lines = (REPOSITORY_ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8").splitlines()
    start = lines.index("backend rasa")
    section = itertools.takewhile(lambda line: line.startswith(" "), lines[start + 1 :])
    return [line.strip() for line in section if line.strip().startswith(("balance", "hash-type"))]


async def test_deploys_balancer_keeps_a_citizen_on_one_rasa_server(
    database: str, tmp_path: Path
) -> None:
    """Compose's gateways reach every Rasa server through one HAProxy address (RASA_URL):
    deploy/haproxy.cfg balances on the gateway's CONVERSATION_HEADER, so a citizen stays on
    one server there too. Debian's HAProxy, with the `backend rasa` balancing lines of the
    deploy file, in front of two stand-in Rasa servers."""
    require_executable(HAPROXY, "HAProxy", "`make haproxy` installs Debian's haproxy (as root)")
    balancing = _deploy_rasa_balancing()
    assert balancing == [f"balance hdr({CONVERSATION_HEADER})", "hash-type consistent"]
    with FakeRasa() as first, FakeRasa() as second:
        balancer = HAProxyBalancer([first.port, second.port], tmp_path, mode="http")
        balancer.backend_lines = balancing
        with balancer:
            conversation = Conversation([balancer.url], shared_lock=True, database_url=database)
            await _three_turns_each(conversation, CITIZENS)
        _each_on_one_server_and_both_used(first, second)


async def test_a_server_that_refuses_connections_is_passed_over_without_a_try_again(
    database: str, refused_port: int
) -> None:
    gone = f"http://127.0.0.1:{refused_port}"  # nobody listens: every connection is refused
    with FakeRasa() as alive:
        conversation = Conversation([gone, alive.url], shared_lock=True, database_url=database)
        try:
            answers = [
                (await conversation.handle(_message(f"web:c{n}", "hello")))[0].text
                for n in range(5)
            ]
        finally:
            await conversation.close()
        assert answers == ["you said: hello"] * 5
        assert len(alive.received) == 5


async def test_without_a_shared_lock_a_refused_server_is_not_replaced(
    database: str, refused_port: int
) -> None:
    """Another server would take the citizen's turn out of order: "try again" instead."""
    gone = f"http://127.0.0.1:{refused_port}"
    with FakeRasa() as alive:
        conversation = Conversation([gone, alive.url], database_url=database)
        sender = next(
            f"web:c{n}" for n in range(100) if conversation.rasa_url_for(f"web:c{n}") == gone
        )
        try:
            replies = await conversation.handle(_message(sender, "hello"))
        finally:
            await conversation.close()
        assert alive.received == []
        assert [reply.text for reply in replies] == [kind_text(TRY_AGAIN, "hello", None)]


def test_redis_url_gives_rasa_a_redis_lock_store_and_the_gateway_a_shared_lock(
    tmp_path: Path,
) -> None:
    plain = Settings(learncity_data_dir=tmp_path)
    endpoints = yaml.safe_load(
        write_endpoints(plain, "http://a/webhook", "sqlite:///x.db", "t").read_text()
    )
    assert "lock_store" not in endpoints
    assert conversation_for(plain).servers.shared_lock is False

    shared = Settings(
        learncity_data_dir=tmp_path, redis_url="redis://:s%40cret@redis.internal:6380/2"
    )
    endpoints = yaml.safe_load(
        write_endpoints(shared, "http://a/webhook", "sqlite:///x.db", "t").read_text()
    )
    assert endpoints["lock_store"] == {
        "type": "nlu.lock_store.AtomicRedisLockStore",
        "url": "redis.internal",
        "port": 6380,
        "db": 2,
        "use_ssl": False,
        "password": "s@cret",
        "key_prefix": "learncity:",
    }
    assert conversation_for(shared).servers.shared_lock is True
    assert lock_store_config("rediss://cache:6379", "")["use_ssl"] is True


async def test_with_a_shared_lock_the_gateway_is_ready_while_any_rasa_server_answers(
    database: str, refused_port: int
) -> None:
    """A load balancer must not take every gateway out because one Rasa server is gone."""
    gone = f"http://127.0.0.1:{refused_port}"
    with FakeRasa() as alive:
        shared = Conversation([gone, alive.url], shared_lock=True, database_url=database)
        sticky = Conversation([gone, alive.url], database_url=database)
        monitors = [HealthMonitor.for_conversation(c) for c in (shared, sticky)]
        try:
            states = [await monitor.readiness() for monitor in monitors]
        finally:
            for monitor in monitors:
                monitor.close()
            await shared.close()
            await sticky.close()
    assert states == [{"rasa": "up"}, {"rasa": "down", "rasa_2": "up"}]
