"""Telegram sends isolated per chat: chats whose sends hang cannot take the pool from the others.

Every send gets its own time limit (`SEND_TIMEOUT_SECONDS`) instead of the library's shared
defaults. A chat whose send timed out is "slow" for a while: its sends may hold at most
`SLOW_LANE_SLOTS` of the connections to the Bot API together, however many slow chats there
are, so healthy chats always find a free connection; its first answered send makes it
healthy again. A timed-out send is never retried here (Telegram may have shown it).

Measured with the Bot API stand-in hanging every send to 100 chats while 100 other chats
wrote (tests/faults/test_slow_bot_api.py): before, healthy chats waited p95 14 s then 21 s and
a third got "try again" instead of their answer; now see docs/channels-telegram.md.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram.error import TimedOut

SEND_TIMEOUT_SECONDS = 3.0  # a sendMessage answers in well under a second when Telegram is well
POOL_WAIT_SECONDS = 8.0  # wait this long for a free connection: longer than a send may hang
SLOW_LANE_SLOTS = 8  # of the 64 connections, what all slow chats together may hold
SLOW_SEND_TIMEOUT_SECONDS = 10.0
SLOW_FOR_SECONDS = 300.0  # a slow chat stays in the slow lane this long unless a send succeeds
MAX_SLOW_CHATS = 100_000

Result = TypeVar("Result")


class SendLanes:
    """Decides, per chat, how a send may use the connections to the Bot API."""

    def __init__(
        self,
        *,
        send_timeout: float = SEND_TIMEOUT_SECONDS,
        slow_slots: int = SLOW_LANE_SLOTS,
        slow_send_timeout: float = SLOW_SEND_TIMEOUT_SECONDS,
        slow_for: float = SLOW_FOR_SECONDS,
    ) -> None:
        self.send_timeout = send_timeout
        self.slow_send_timeout = slow_send_timeout
        self.slow_for = slow_for
        self._slow_slots = asyncio.Semaphore(slow_slots)
        self._slow_until: OrderedDict[int, float] = OrderedDict()
        self._closing = asyncio.Event()

    def close(self) -> None:
        """The gateway is stopping: sends still waiting or hanging give up now (TimedOut), so
        stopping does not wait for a Bot API that does not answer."""
        self._closing.set()

    def is_slow(self, chat_id: int) -> bool:
        until = self._slow_until.get(chat_id)
        if until is None:
            return False
        if until < time.monotonic():
            del self._slow_until[chat_id]
            return False
        return True

    @property
    def slow_chats(self) -> int:
        return len(self._slow_until)

    async def send(
        self, chat_id: int, call: Callable[..., Awaitable[Result]], arguments: dict[str, Any]
    ) -> Result:
        """`call(chat_id=..., **arguments)` within this chat's limits; raises TimedOut."""
        if not self.is_slow(chat_id):
            return await self._attempt(chat_id, call, arguments, self.send_timeout)
        try:
            await asyncio.wait_for(
                self._unless_closing(self._slow_slots.acquire()), timeout=self.slow_send_timeout
            )
        except TimeoutError:
            raise TimedOut("slow lane full: this chat's earlier sends are still hanging") from None
        try:
            result = await self._attempt(chat_id, call, arguments, self.slow_send_timeout)
        finally:
            self._slow_slots.release()
        self._slow_until.pop(chat_id, None)  # answered: healthy again
        return result

    async def _attempt(
        self,
        chat_id: int,
        call: Callable[..., Awaitable[Result]],
        arguments: dict[str, Any],
        timeout: float,
    ) -> Result:
        limits = {
            "read_timeout": timeout,
            "write_timeout": timeout,
            "connect_timeout": timeout,
            "pool_timeout": POOL_WAIT_SECONDS,
        }
        try:
            return await self._unless_closing(call(chat_id=chat_id, **arguments, **limits))
        except TimedOut as error:
            if not _waited_for_the_pool(error):  # the send itself hung: this chat is slow
                self._mark_slow(chat_id)
            raise

    async def _unless_closing(self, awaitable: Awaitable[Result]) -> Result:
        if self._closing.is_set():
            raise TimedOut("the gateway is stopping")
        work = asyncio.ensure_future(awaitable)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({work, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            if not work.done():
                work.cancel()
        if not work.done() or work.cancelled():
            raise TimedOut("the gateway is stopping")
        return work.result()

    def _mark_slow(self, chat_id: int) -> None:
        self._slow_until[chat_id] = time.monotonic() + self.slow_for
        self._slow_until.move_to_end(chat_id)
        while len(self._slow_until) > MAX_SLOW_CHATS:
            self._slow_until.popitem(last=False)


def _waited_for_the_pool(error: TimedOut) -> bool:
    # python-telegram-bot says "Pool timeout: All connections in the connection pool are
    # occupied..." when no connection came free, which says nothing about this chat.
    return str(error.message).lower().startswith("pool timeout")
