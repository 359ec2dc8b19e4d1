"""The broadcast queue on Redis: Dramatiq hands chunk ids to worker processes.

Why Dramatiq (docs/broadcasts.md compares arq, Dramatiq, RQ and Celery): it runs `async def`
actors on an event loop of its own (our senders are httpx/asyncio), its Redis broker keeps a
message until the worker that took it acknowledges it and gives the messages of a worker whose
heartbeat stopped (killed -9) to the others, it works with the redis client we already pin
(arq needs redis < 6), and it is maintained (LGPL-3.0, used as a library).

The queue carries only chunk ids; what to send and to whom is in the database
(bot/broadcast_jobs.py) and who got it in the ledger, so a message delivered twice is harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from core.settings import Settings

QUEUE_NAME = "broadcasts"
ACTOR_NAME = "learncity_broadcast_chunk"
# A killed worker's messages go to the others this long after its last heartbeat.
HEARTBEAT_TIMEOUT_MS = 15_000
# Chunks wait behind the shared rate limit, so one may take long; leases catch dead workers.
CHUNK_TIME_LIMIT_MS = 6 * 3600 * 1000


class ChunkQueue:
    """Dramatiq's Redis broker and the one actor that sends a chunk, built once per process."""

    def __init__(self, settings: Settings, send_chunk: Callable[[int], Awaitable[None]]) -> None:
        self.broker = RedisBroker(
            url=settings.redis_url,
            namespace=f"{settings.redis_key_prefix}dramatiq",
            heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
            # Per million queue commands: 1 % of them also give dead workers' messages back
            # (Dramatiq's default, 0.1 %, left a killed worker's prefetched chunks for minutes).
            maintenance_chance=10_000,
        )
        self.broker.add_middleware(AsyncIO())
        self.actor = dramatiq.Actor(
            send_chunk,
            broker=self.broker,
            actor_name=ACTOR_NAME,
            queue_name=QUEUE_NAME,
            priority=0,
            options={"max_retries": 1000, "time_limit": CHUNK_TIME_LIMIT_MS, "max_age": None},
        )

    def enqueue(self, chunk_ids: list[int]) -> None:
        for chunk_id in chunk_ids:
            self.actor.send(chunk_id)

    def nothing_ready(self) -> bool:
        """True when no message of ours waits to be taken (ready or delayed for a retry).
        Messages a killed worker had taken stay in its acknowledgement set until Dramatiq's
        maintenance hands them back; until then the chunks they name are pending and idle."""
        name = f"{self.broker.namespace}:{QUEUE_NAME}"
        client = self.broker.client
        return not (client.llen(name) or client.llen(f"{name}.DQ"))

    def worker(self, threads: int) -> dramatiq.Worker:
        """A consumer of the queue with `threads` chunks in flight (start/stop it)."""
        return dramatiq.Worker(self.broker, queues={QUEUE_NAME}, worker_threads=threads)

    def close(self) -> None:
        self.broker.close()
