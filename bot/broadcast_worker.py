"""Broadcast workers: plan announcements when they are due, send their chunks, keep leases alive.

`learncity serve worker` runs one (`serve_worker`); `learncity run` runs one in a thread beside
the gateway (`start_in_thread`); `learncity broadcast` without REDIS_URL runs one in-process until
its announcement is sent. Every worker, every second: plans the announcements that are due
(bot/broadcast_jobs.py) and puts chunks back whose worker stopped renewing their lease (killed).

- With REDIS_URL the chunks go through the Dramatiq queue (bot/broadcast_queue.py) to every
  worker, and all of them share one send rate per channel and bot (bot/broadcast_rate.py).
- Without it the chunk table is the queue: this process claims chunks itself, with a rate of
  its own (run one worker then).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import redis.asyncio
from sqlalchemy import update

from bot.broadcast_jobs import (
    PENDING,
    RUNNING,
    AnnouncementRow,
    ChunkRow,
    claim_chunk,
    claim_due,
    dispatched,
    finish_chunk,
    idle_pending_chunks,
    plan,
    renew_chunk,
    utc_now,
)
from bot.broadcast_rate import SendRate, send_rates
from bot.broadcasts import send_chunk
from bot.channels.base import ChannelSender
from core.database import session_scope
from core.settings import Settings

logger = logging.getLogger(__name__)

CHUNK_LEASE = timedelta(seconds=15)
RENEW_SECONDS = 5.0
TICK_SECONDS = 1.0
LOST_MESSAGES_CHECK_SECONDS = 10.0


class BroadcastWorker:
    """One worker process's broadcast work; senders and limiters are built on the loop that
    sends (they hold that loop's connections)."""

    def __init__(
        self, settings: Settings, senders: Callable[[], dict[str, ChannelSender]] | None = None
    ) -> None:
        self.settings = settings
        self.url = settings.sqlalchemy_url
        self.holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._make_senders = senders or _configured_senders(settings)
        self._senders: dict[str, ChannelSender] | None = None
        self._rates: dict[str, SendRate] = {}
        self._redis: redis.asyncio.Redis | None = None

    def plan_due(self, enqueue: Callable[[list[int]], None] | None = None) -> None:
        """Plan every announcement that is due and queue its chunks (`enqueue`; None: the
        chunk table is the queue)."""
        with session_scope(self.url) as session:
            while (row := claim_due(session, self.holder)) is not None:
                planned = plan(
                    session, row, self.holder, max(1, self.settings.broadcast_chunk_size)
                )
                logger.info("broadcast %d planned: %d chunks", row.id, len(planned))
                if enqueue is not None:
                    enqueue(planned)
                dispatched(session, row.id, self.holder)

    def requeue_stalled(self) -> list[int]:
        """Chunks whose worker stopped renewing (killed): pending again, ids to queue again."""
        with session_scope(self.url) as session:
            stalled = session.scalars(
                update(ChunkRow)
                .where(ChunkRow.status == RUNNING, ChunkRow.lease_until < utc_now())
                .values(status=PENDING, holder="")
                .returning(ChunkRow.id)
            ).all()
        if stalled:
            logger.warning("broadcast: %d chunk(s) of a stopped worker queued again", len(stalled))
        return list(stalled)

    def lost_chunks(self, nothing_ready: Callable[[], bool]) -> list[int]:
        """Pending chunks nobody will take: none is being sent and the queue has no message
        ready (Redis lost its data, or a killed worker's taken messages are not back yet)."""
        with session_scope(self.url) as session:
            pending = idle_pending_chunks(session)
        if not pending or not nothing_ready():
            return []
        logger.warning(
            "broadcast: %d pending chunk(s) not in the queue; queued again", len(pending)
        )
        return pending

    async def send_queued_chunk(self, chunk_id: int) -> None:
        """The queue's actor: send chunk `chunk_id` unless another worker has it or it is done."""
        with session_scope(self.url) as session:
            chunk = claim_chunk(session, chunk_id, self.holder, CHUNK_LEASE)
        if chunk is not None:
            await self._send_claimed(chunk)

    async def run_in_process(
        self, stop: threading.Event, until: Callable[[], bool] | None = None
    ) -> None:
        """Without Redis: plan, claim and send chunks here until `stop`, or until `until()` is
        true with nothing left to send here (`until=lambda: True`: until idle)."""
        running: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                self.plan_due()
                while len(running) < max(1, self.settings.broadcast_worker_concurrency):
                    with session_scope(self.url) as session:
                        chunk = claim_chunk(session, None, self.holder, CHUNK_LEASE)
                    if chunk is None:
                        break
                    task = asyncio.create_task(self._send_claimed(chunk))
                    running.add(task)
                    task.add_done_callback(running.discard)
                if until is not None and not running and until():
                    break
                await asyncio.sleep(TICK_SECONDS if not running else 0.2)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await self.close()

    async def close(self) -> None:
        for channel_sender in (self._senders or {}).values():
            try:
                await channel_sender.close()
            except Exception as error:  # closing must not hide why we stopped
                logger.warning(
                    "broadcast: closing the %s sender: %r", channel_sender.channel, error
                )
        self._senders = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _send_claimed(self, chunk: ChunkRow) -> None:
        with session_scope(self.url) as session:
            row = session.get(AnnouncementRow, chunk.announcement_id)
            if row is None:
                return
            announcement, resend_unknown = row.announcement(), row.resend_unknown
        if self._senders is None:
            self._senders = self._make_senders()
            if self.settings.redis_url:
                self._redis = redis.asyncio.Redis.from_url(self.settings.redis_url)
            self._rates = send_rates(self.settings, self._redis)
        renewing = asyncio.create_task(self._renew(chunk.id))
        try:
            with session_scope(self.url) as session:
                report = await send_chunk(
                    announcement,
                    self._senders,
                    json.loads(chunk.sender_ids),
                    session,
                    self._rates,
                    resend_unknown=resend_unknown,
                )
        finally:
            renewing.cancel()
        with session_scope(self.url) as session:
            finished = finish_chunk(session, chunk, self.holder)
        logger.info(
            "broadcast %d chunk %d: delivered %d, unreachable %d, failed %d, unknown %d%s",
            chunk.announcement_id,
            chunk.position,
            report.delivered,
            report.unreachable,
            report.failed,
            report.unknown,
            "; the announcement is sent" if finished else "",
        )

    async def _renew(self, chunk_id: int) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            with session_scope(self.url) as session:
                if not renew_chunk(session, chunk_id, self.holder, CHUNK_LEASE):
                    logger.warning("broadcast chunk %d: lease lost to another worker", chunk_id)
                    return


def _configured_senders(settings: Settings) -> Callable[[], dict[str, ChannelSender]]:
    def build() -> dict[str, ChannelSender]:
        from bot.channels.configured import configured_senders

        return configured_senders(settings)

    return build


def serve_worker(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run a worker in the foreground until `stop` is set or Ctrl-C / SIGTERM."""
    stop = stop or threading.Event()
    worker = BroadcastWorker(settings)
    if not settings.redis_url:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(worker.run_in_process(stop))
        return
    from bot.broadcast_queue import ChunkQueue

    queue = ChunkQueue(settings, worker.send_queued_chunk)
    consumer = queue.worker(max(1, settings.broadcast_worker_concurrency))
    consumer.start()
    last_check = 0.0
    try:
        while not stop.is_set():
            worker.plan_due(queue.enqueue)
            queue.enqueue(worker.requeue_stalled())
            if time.monotonic() - last_check > LOST_MESSAGES_CHECK_SECONDS:
                last_check = time.monotonic()
                queue.enqueue(worker.lost_chunks(queue.nothing_ready))
            stop.wait(TICK_SECONDS)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.stop(timeout=5000)
        queue.close()


def start_in_thread(settings: Settings) -> Callable[[], None]:
    """A worker beside the gateway (`learncity run`); returns the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=serve_worker, args=(settings, stop), name="broadcast-worker", daemon=True
    )
    thread.start()

    def stop_worker() -> None:
        stop.set()
        thread.join(timeout=10)

    return stop_worker
