"""Wake-ups for web chat pages that wait on `GET /api/updates?wait=N` (long polling).

A page in a hand-over asks for updates and the gateway holds the request until a reply for
that page is in the outbox or `wait` seconds pass, so a person's answer shows at once
instead of at the next 1 s poll (issue 13: reply to page within 2 s with 50 citizens
waiting). Two ways a waiting page is woken:
- replies this process puts in the outbox (the console's help-desk answers, its own
  `WebSender`) wake it at once, through `notify`;
- replies another process put (another gateway replica's console, a broadcast worker) are
  found by one watcher per process: every `WATCH_SECONDS`, while any page waits, it reads
  the ids of the outbox rows created in the last `RECENT_SECONDS` and wakes the pages of
  those it has not seen. One indexed query per gateway, not per page; a row that commits
  late (PostgreSQL) is still within the recent window.
A woken page reads its own outbox after its cursor, so a spurious wake costs one read and
never a wrong answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.models import WebOutboxMessage
from core.database import session_scope

logger = logging.getLogger(__name__)

WATCH_SECONDS = 0.5
RECENT_SECONDS = 10.0


class OutboxWakeups:
    """Pages waiting for their outbox in this process, and the watcher of other processes' rows."""

    def __init__(self, database_url: str | None, watch_seconds: float = WATCH_SECONDS) -> None:
        self.database_url = database_url
        self.watch_seconds = watch_seconds
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._seen: dict[int, float] = {}  # outbox id -> when it was seen (monotonic)
        self._watcher: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def listening(self, session_id: str) -> Iterator[asyncio.Event]:
        """An event set when the page's outbox may have news; register before reading it."""
        event = asyncio.Event()
        self._waiting.setdefault(session_id, set()).add(event)
        self._start_watcher()
        try:
            yield event
        finally:
            events = self._waiting.get(session_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiting[session_id]

    def notify(self, session_id: str, outbox_ids: list[int] | None = None) -> None:
        """Wake the pages of `session_id` (call on the event loop, after the rows committed)."""
        now = time.monotonic()
        for outbox_id in outbox_ids or []:
            self._seen[outbox_id] = now  # the watcher need not wake anyone for these again
        for event in self._waiting.get(session_id, ()):
            event.set()

    def waiting_pages(self) -> int:
        return sum(len(events) for events in self._waiting.values())

    def _start_watcher(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        """Runs while pages wait; stops by itself when none does."""
        while self._waiting:
            await asyncio.sleep(self.watch_seconds)
            try:
                rows = await asyncio.to_thread(_recent_rows, self.database_url, RECENT_SECONDS)
            except SQLAlchemyError as error:  # the waiting pages time out and ask again
                logger.warning("web chat wake-ups cannot read the outbox: %s", error)
                continue
            now = time.monotonic()
            for outbox_id, session_id in rows:
                if outbox_id not in self._seen:
                    self._seen[outbox_id] = now
                    self.notify(session_id)
            cutoff = now - 2 * RECENT_SECONDS
            self._seen = {key: at for key, at in self._seen.items() if at >= cutoff}


def _recent_rows(database_url: str | None, seconds: float) -> list[tuple[int, str]]:
    since = datetime.now(UTC) - timedelta(seconds=seconds)
    with session_scope(database_url) as session:
        rows = session.execute(
            select(WebOutboxMessage.id, WebOutboxMessage.session_id).where(
                WebOutboxMessage.created_at >= since
            )
        ).all()
    return [(int(outbox_id), str(session_id)) for outbox_id, session_id in rows]
