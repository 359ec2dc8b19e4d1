"""The web chat's answered messages: a client's retry of a message gets the first answer.

A page (or any client of `POST /api/chat`) whose request timed out, or whose connection broke
while the assistant was answering, sends the same message again with the same `message_id`.
Asking the assistant twice would act twice (two registrations, a form moved on by one step)
and answer twice, so the retry waits for the first turn and gets its replies. The turn runs
on its own, shielded from the request: a client that goes away mid-answer does not cancel it,
and its retry finds the answer ready. Kept in this process for a few minutes (a retry follows
within seconds); with several gateway replicas (REDIS_URL set) bot/channels/web_shared_turns.py
claims each turn in Redis inside this, so a retry that reaches another replica gets it too.
A turn that ends in `NotAnswered` (Redis did not answer, say) gives its kind words and is
forgotten here, so the citizen's next retry is asked again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.channels.recent_turns import TurnLedger
from bot.messages import Reply


class NotAnswered(Exception):
    """A turn that did not ask the assistant; `replies` (a kind "try again") are for this request."""

    def __init__(self, replies: list[Reply]) -> None:
        super().__init__("turn not answered")
        self.replies = replies


@dataclass
class _WebTurn:
    task: asyncio.Task[list[Reply]]
    created: float = field(default_factory=time.monotonic)


class AnsweredOnce:
    """Runs each client message once; a retry with the same key awaits the same turn."""

    def __init__(self, ttl_seconds: float = 300.0, max_turns: int = 20_000) -> None:
        self._turns: TurnLedger[_WebTurn] = TurnLedger(ttl_seconds, max_turns)
        self._running: set[asyncio.Task[list[Reply]]] = set()  # keeps unkeyed turns alive

    async def answer(
        self,
        key: str | None,
        turn: Callable[[], Awaitable[list[Reply]]],
        try_again: Callable[[], Awaitable[list[Reply]]] | None = None,
    ) -> list[Reply]:
        """The replies of `key`'s turn, started now unless a request already started it.
        Without a key (the client gave no message id) every request is a turn of its own.
        `try_again` is for the shared memory's sake (web_shared_turns.py): this one always asks."""
        known = self._turns.get(key) if key is not None else None
        if known is None:
            known = _WebTurn(self._start(turn))
            if key is not None:
                self._turns.add(key, known)
        try:
            return await asyncio.shield(known.task)
        except NotAnswered as unanswered:
            if key is not None:
                self._turns.discard(key, known)
            return unanswered.replies

    def _start(self, turn: Callable[[], Awaitable[list[Reply]]]) -> asyncio.Task[list[Reply]]:
        async def run() -> list[Reply]:
            return await turn()

        task = asyncio.ensure_future(run())
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task
