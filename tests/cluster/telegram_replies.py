"""What the bot sent to each Telegram chat, as the Bot API stand-in received it.

The load's Telegram citizens used to poll `FakeTelegramApi.sent_to` every 50 ms, which scans
every call the stand-in ever recorded: with 80 citizens and a few thousand messages that was
a good part of the load generator's CPU, on the same two cores as the stack it measures, and
the latency read after the reply had been quiet for 0.3 s included those 0.3 s. This keeps
each chat's messages apart, wakes the citizen waiting on that chat, and dates a reply by the
moment its last message reached the stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import defaultdict

from tests.fakes.telegram_api import ApiCall, FakeTelegramApi

REPLY_QUIET_SECONDS = 0.3  # a reply of several messages is complete once none came for this


class TelegramReplies:
    """Per chat, the messages the bot sent; created on the event loop that waits for them."""

    def __init__(self, telegram: FakeTelegramApi) -> None:
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._sent: defaultdict[int, list[ApiCall]] = defaultdict(list)
        self._waiting: dict[int, asyncio.Event] = {}
        self.active = True  # the stand-in keeps its listeners; an ended load ignores calls
        telegram.add_listener(self._record)

    def _record(self, call: ApiCall) -> None:
        """In the stand-in's thread, for every call it records."""
        chat_id = call.params.get("chat_id")
        if not self.active or not call.method.startswith("send") or not isinstance(chat_id, int):
            return
        with self._lock:
            self._sent[chat_id].append(call)
            event = self._waiting.get(chat_id)
        if event is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(event.set)

    def count(self, chat_id: int) -> int:
        with self._lock:
            return len(self._sent.get(chat_id, ()))

    async def reply(self, chat_id: int, before: int, timeout: float) -> list[ApiCall] | None:
        """The messages after the first `before` once they stop coming (none for
        `REPLY_QUIET_SECONDS`), or None if none came within `timeout` seconds."""
        event = self._waiting.setdefault(chat_id, asyncio.Event())
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    while self.count(chat_id) <= before:
                        event.clear()
                        if self.count(chat_id) <= before:
                            await event.wait()
            if self.count(chat_id) <= before:
                return None
            while True:  # the rest of a reply of several messages
                event.clear()
                try:
                    async with asyncio.timeout(REPLY_QUIET_SECONDS):
                        await event.wait()
                except TimeoutError:
                    break
            with self._lock:
                return list(self._sent[chat_id][before:])
        finally:
            self._waiting.pop(chat_id, None)
