"""Web chat turns claimed in Redis, so a client's retry on another gateway replica is not asked again.

With several gateway replicas behind a load balancer, a page's retry of a message (same
`session_id` and `message_id`) may reach another replica than the first request. Each turn
is claimed with `SET key busy NX EX lease`: the replica that gets it asks the assistant and
stores the replies (`SET key json EX ttl`); any other request for the key waits, bounded,
for them and answers with the same replies. A replica killed mid-answer leaves only its
lease (renewed while it answers), which lapses, and the next retry is answered by whoever
claims it then.

If Redis does not answer, the citizen gets the kind "try again" in their language and the
assistant is not asked: answering without the claim could answer twice. So does a retry
whose first turn is still being answered when the wait runs out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

import redis
import redis.asyncio

from bot.channels.web_turns import AnsweredOnce, NotAnswered
from bot.messages import Reply
from bot.shared_state import OutageLog, async_client
from core.settings import Settings

logger = logging.getLogger(__name__)

BUSY = b"busy"
# Renewed every third of it while the turn runs: a slow turn keeps its claim, and one whose
# replica was killed is free again within this.
LEASE_SECONDS = 15.0
WAIT_SECONDS = 25.0  # a retry waits this long for another replica's answer, then "try again"
_POLL_FIRST, _POLL_MOST = 0.05, 0.5  # seconds between looks at another replica's claim

Turn = Callable[[], Awaitable[list[Reply]]]

# Renew a claim only while it is still "busy": a renewal that reaches Redis after the replies
# were stored must not turn them back into a claim.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
end
return false
"""


class SharedAnsweredOnce:
    """`AnsweredOnce` across gateway replicas: each keyed turn is claimed in Redis first."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        prefix: str,
        ttl_seconds: float = 300.0,
        lease_seconds: float = LEASE_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        # Retries on this replica share one task (and its shield against a client gone away).
        self._local = AnsweredOnce(ttl_seconds)
        self._outage = OutageLog(f"web chat turns ({prefix})", "citizens are asked to try again")
        self._renew_claim = client.register_script(_RENEW)

    async def answer(self, key: str | None, turn: Turn, try_again: Turn) -> list[Reply]:
        """The replies of `key`'s turn, asked of the assistant once on whichever replica
        claims it; `try_again` gives the kind words when that cannot be made sure of."""
        if key is None:
            return await self._local.answer(None, turn)
        return await self._local.answer(key, lambda: self._claimed(key, turn, try_again))

    async def _claimed(self, key: str, turn: Turn, try_again: Turn) -> list[Reply]:
        name = f"{self.prefix}{key}"
        deadline = time.monotonic() + self.wait_seconds
        pause = _POLL_FIRST
        try:
            while True:
                if await self.client.set(name, BUSY, nx=True, ex=_seconds(self.lease_seconds)):
                    return await self._answer_and_store(name, turn)
                stored = await self.client.get(name)
                if stored is not None and stored != BUSY:
                    return [Reply.from_json(item) for item in json.loads(stored)]
                # Busy on another replica (or its lease lapsed just now: claim it next round).
                if time.monotonic() + pause > deadline:
                    logger.warning(
                        "web chat: a retry waited %.0f s for another replica", self.wait_seconds
                    )
                    raise NotAnswered(await try_again())
                await asyncio.sleep(pause)
                pause = min(pause * 2, _POLL_MOST)
        except redis.RedisError as error:
            self._outage.failed(error)
            raise NotAnswered(await try_again()) from error

    async def _answer_and_store(self, name: str, turn: Turn) -> list[Reply]:
        renewing = asyncio.ensure_future(self._renew(name))
        try:
            replies = await turn()
        finally:
            renewing.cancel()
        stored = json.dumps([reply.to_json() for reply in replies], ensure_ascii=False)
        try:
            await self.client.set(name, stored.encode(), ex=_seconds(self.ttl_seconds))
        except redis.RedisError as error:
            # Answered: the citizen gets it. A retry on another replica after the lease may
            # be asked again; the log says so.
            self._outage.failed(error)
        return replies

    async def _renew(self, name: str) -> None:
        """Keep this replica's claim while its turn runs."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self._renew_claim(keys=[name], args=[BUSY, _seconds(self.lease_seconds)])
            except redis.RedisError as error:
                self._outage.failed(error)


def _seconds(value: float) -> int:
    return max(1, int(value))


def web_answers(settings: Settings) -> AnsweredOnce | SharedAnsweredOnce:
    """The web chat's memory of answered turns: shared in Redis if REDIS_URL is set."""
    if not settings.redis_url:
        return AnsweredOnce()
    # Short timeouts: a lost Redis must not hold the page; the citizen is asked to try again.
    return SharedAnsweredOnce(async_client(settings), f"{settings.redis_key_prefix}web:turn:")
