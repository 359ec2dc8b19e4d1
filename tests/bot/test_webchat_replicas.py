"""Web chat retries across gateway replicas: a message resent to another replica is asked once.

Two real `learncity serve gateway` processes share the real Redis (REDIS_URL) in front of the
trained assistant behind a real Rasa server; a third one's Redis does not answer. What Rasa
saw is read from its tracker store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from bot.kind_replies import TRY_AGAIN
from bot.stack import free_port
from tests.bot.test_webchat_retries import QUESTION, _citizen_turns, same_answer_with_cards
from tests.cluster.support import RoleProcess
from tests.conftest import RunningAssistant
from tests.services import REDIS_URL, require_redis
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

PREFIX = f"lc{uuid.uuid4().hex[:10]}:"  # REDIS_KEY_PREFIX of these gateways


def _gateway(
    name: str, root: Path, assistant: RunningAssistant, redis_url: str, prefix: str
) -> RoleProcess:
    port = free_port()
    env = dict(os.environ) | {
        "GATEWAY_PORT": str(port),
        "RASA_URL": assistant.rasa_url,
        "RASA_AUTH_TOKEN": assistant.rasa_token,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "TELEGRAM_BOT_TOKEN": "",
        "WECHAT_APP_ID": "",
        "LEARNCITY_LOG_LEVEL": "WARNING",
    }
    return RoleProcess(name, "gateway", port, env, root / f"{name}.log")


def _ready(process: RoleProcess) -> bool:
    assert process.process is not None and process.process.poll() is None, process.tail()
    try:
        url = f"http://127.0.0.1:{process.port}/health/ready"
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def gateways(
    assistant: RunningAssistant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Base URLs of "one" and "two" (sharing Redis) and "lost" (its Redis never answers)."""
    client = require_redis(REDIS_URL)  # a missing service fails the test, naming it
    root = tmp_path_factory.mktemp("web-replicas")
    prefix = PREFIX
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    processes = {
        "one": _gateway("one", root, assistant, REDIS_URL, prefix),
        "two": _gateway("two", root, assistant, REDIS_URL, prefix),
        "lost": _gateway("lost", root, assistant, nobody, prefix),
    }
    try:
        for process in processes.values():
            process.start()
        for name, process in processes.items():
            wait_until(partial(_ready, process), 300, f"gateway {name} ready", interval=0.5)
        yield {name: f"http://127.0.0.1:{p.port}" for name, p in processes.items()}
    finally:
        for process in processes.values():
            process.stop()
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def _body(text: str = QUESTION) -> dict[str, str]:
    return {"session_id": uuid.uuid4().hex, "message_id": uuid.uuid4().hex, "text": text}


async def test_one_message_sent_to_both_replicas_at_once_is_asked_once_with_one_answer(
    assistant: RunningAssistant, gateways: dict[str, str]
) -> None:
    """Before: each replica asked the assistant, and the citizen was answered twice."""
    body = _body()
    async with httpx.AsyncClient(timeout=90) as client:
        first, second = await asyncio.gather(
            client.post(f"{gateways['one']}/api/chat", json=body),
            client.post(f"{gateways['two']}/api/chat", json=body),
        )
        later = await client.post(f"{gateways['two']}/api/chat", json=body)
    same_answer_with_cards(first, second, later)
    assert _citizen_turns(assistant.database_url, f"web:{body['session_id']}") == 1


async def test_a_retry_on_the_other_replica_after_the_client_gave_up_gets_the_first_answer(
    assistant: RunningAssistant, gateways: dict[str, str]
) -> None:
    body = _body()
    # Gives up after 50 ms; a quiet machine can answer sooner, and either way one ask is the rule.
    async with httpx.AsyncClient(timeout=0.05) as impatient:
        with contextlib.suppress(httpx.TimeoutException):
            await impatient.post(f"{gateways['one']}/api/chat", json=body)
    async with httpx.AsyncClient(timeout=90) as client:
        retried = await client.post(f"{gateways['two']}/api/chat", json=body)
        again = await client.post(f"{gateways['one']}/api/chat", json=body)
        other = await client.post(
            f"{gateways['two']}/api/chat",
            json=body | {"message_id": uuid.uuid4().hex, "text": "thank you"},
        )
    assert other.status_code == 200
    same_answer_with_cards(retried, again)
    assert _citizen_turns(assistant.database_url, f"web:{body['session_id']}") == 2, "and thanks"


async def test_a_claim_left_by_a_killed_replica_lapses_and_the_retry_is_answered_once(
    assistant: RunningAssistant, gateways: dict[str, str]
) -> None:
    """A replica killed mid-answer leaves its claim in Redis (docs/operators.md's key layout);
    a retry meanwhile waits for it to lapse, then is asked once, on the replica it reached."""
    body = _body()
    client = require_redis(REDIS_URL)
    try:
        claim = f"{PREFIX}web:turn:{body['session_id']}/{body['message_id']}"
        assert client.set(claim, b"busy", nx=True, ex=2)
        async with httpx.AsyncClient(timeout=90) as http:
            retried = await http.post(f"{gateways['two']}/api/chat", json=body)
            again = await http.post(f"{gateways['one']}/api/chat", json=body)
        assert client.ttl(claim) > 2, "the replies are kept longer than the lapsed claim"
    finally:
        client.close()
    same_answer_with_cards(retried, again)
    assert _citizen_turns(assistant.database_url, f"web:{body['session_id']}") == 1


async def test_without_redis_a_retryable_message_gets_a_kind_try_again_and_is_not_asked(
    assistant: RunningAssistant, gateways: dict[str, str]
) -> None:
    body = _body()
    async with httpx.AsyncClient(base_url=gateways["lost"], timeout=90) as client:
        refused = await client.post("/api/chat", json=body)
        unkeyed = await client.post("/api/chat", json={"text": QUESTION})
    assert refused.status_code == unkeyed.status_code == 200
    assert [reply["text"] for reply in refused.json()["replies"]] == [TRY_AGAIN["en"]]
    assert _citizen_turns(assistant.database_url, f"web:{body['session_id']}") == 0
    # A message the client cannot resend safely anyway (no message id) is still answered.
    answer = unkeyed.json()["replies"]
    assert [card for reply in answer for card in reply["cards"]], answer
