"""WeChat's 5-second rule: answer in the callback's response if quick, else later, and only once.

WeChat waits 5 seconds for a callback's response and then retries the same message (same
MsgId, or same sender and CreateTime for events) up to three times. Each message becomes one
`Turn`, remembered in a bounded `TurnLedger` for a few minutes; every retry waits on the same
turn instead of asking the assistant again. Exactly one party delivers the answer:
- a request that sees the answer ready within its budget claims `PASSIVE` and returns it in
  its HTTP response (a retry after that returns the same reply, since WeChat did not get it);
- a request whose budget runs out first claims `CUSTOMER_SERVICE` and answers "success"; the
  turn then sends the answer through the customer-service API once it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from bot.channels.recent_turns import TurnLedger

__all__ = ["CUSTOMER_SERVICE", "PASSIVE", "SenderLocks", "Turn", "TurnLedger"]

PASSIVE = "passive"
CUSTOMER_SERVICE = "customer_service"


@dataclass
class Turn:
    """One citizen message and what became of its answer."""

    sender_id: str
    created: float = field(default_factory=time.monotonic)
    answer: list[str] = field(default_factory=list)  # text pieces of at most 2048 bytes each
    delivery: str | None = None  # PASSIVE or CUSTOMER_SERVICE once someone claimed it
    requests: int = 0  # how many callbacks (first + retries) asked for this message
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    decided: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def passive_answer(self, budget_seconds: float) -> str | None:
        """The text to return in this request's response, or None to answer "success"."""
        self.requests += 1
        if self.delivery == CUSTOMER_SERVICE:
            return None  # an earlier request already said "success"; the answer follows
        if not self.ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), timeout=budget_seconds)
        if self.ready.is_set() and self.delivery in (None, PASSIVE):
            self._claim(PASSIVE)
            return self.answer[0] if self.answer else None
        self._claim(CUSTOMER_SERVICE)
        return None

    async def undelivered_pieces(self, wait_seconds: float) -> list[str]:
        """Once the answer is ready: what the customer-service API must still send."""
        try:
            await asyncio.wait_for(self.decided.wait(), timeout=wait_seconds)
        except TimeoutError:
            self._claim(CUSTOMER_SERVICE)  # the request vanished without deciding
        return list(self.answer) if self.delivery == CUSTOMER_SERVICE else self.answer[1:]

    def _claim(self, delivery: str) -> None:
        if self.delivery is None:
            self.delivery = delivery
            self.decided.set()


class SenderLocks:
    """One lock per citizen, so their turns are answered (and delivered) in the order sent."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    def for_sender(self, sender_id: str) -> _SenderLock:
        return _SenderLock(self, sender_id)


class _SenderLock:
    def __init__(self, locks: SenderLocks, sender_id: str) -> None:
        self._locks = locks
        self._sender_id = sender_id

    async def __aenter__(self) -> None:
        locks = self._locks
        lock = locks._locks.setdefault(self._sender_id, asyncio.Lock())
        locks._users[self._sender_id] = locks._users.get(self._sender_id, 0) + 1
        try:
            await lock.acquire()
        except BaseException:
            self._release_user()
            raise

    async def __aexit__(self, *_: object) -> None:
        self._locks._locks[self._sender_id].release()
        self._release_user()

    def _release_user(self) -> None:
        locks = self._locks
        locks._users[self._sender_id] -= 1
        if locks._users[self._sender_id] == 0:  # nobody holds or waits: forget the lock
            del locks._users[self._sender_id]
            del locks._locks[self._sender_id]
