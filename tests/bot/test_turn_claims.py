"""Turn claims (bot/shared_state.py): one replica answers a Telegram update; a replica that died
while answering gives the update up when its lease lapses; an answered update stays answered."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from bot.shared_state import BUSY, DONE, NEW, InProcessClaims, TurnClaims, turn_claims
from core.settings import Settings
from tests.services import REDIS_URL, require_redis
from tests.waiting import wait_until_async


@pytest.fixture(params=["in-process", "redis"])
def claims(request: pytest.FixtureRequest) -> Iterator[TurnClaims]:
    if request.param == "in-process":
        yield InProcessClaims()
        return
    client = require_redis(REDIS_URL)
    prefix = f"learncity-test:{uuid.uuid4().hex}:"
    try:
        yield turn_claims(Settings(redis_url=REDIS_URL, redis_key_prefix=prefix), "telegram:update")
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


async def test_the_first_claim_answers_others_wait_and_an_answered_turn_stays_answered(
    claims: TurnClaims,
) -> None:
    assert await claims.claim("1001", lease_seconds=30) == NEW
    assert await claims.claim("1001", lease_seconds=30) == BUSY
    await claims.finish("1001", ttl_seconds=60)
    assert await claims.claim("1001", lease_seconds=30) == DONE
    assert await claims.claim("1002", lease_seconds=30) == NEW


async def test_a_lease_nobody_finished_lapses_and_the_turn_is_claimed_again(
    claims: TurnClaims,
) -> None:
    assert await claims.claim("2001", lease_seconds=1) == NEW  # then the replica dies
    assert await claims.claim("2001", lease_seconds=1) == BUSY

    async def claimed_again() -> bool:
        return await claims.claim("2001", lease_seconds=1) == NEW

    await wait_until_async(
        claimed_again, 4, "the lease of a replica that never finished to lapse", interval=0.1
    )
