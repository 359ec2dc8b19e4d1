"""The turns a channel answered lately, by the client's own message id, so a retry finds its answer.

Clients resend a message whose answer they did not get in time (WeChat after 5 seconds, the
web page after a network error); the retry must find the first turn instead of asking the
assistant again. Bounded in size and age: a retry comes within seconds or minutes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, Protocol, TypeVar


class _Timed(Protocol):
    created: float  # time.monotonic() when the turn began


TurnT = TypeVar("TurnT", bound=_Timed)


class TurnLedger(Generic[TurnT]):
    """Recent turns by dedupe key: bounded in size, each kept `ttl_seconds` after it began."""

    def __init__(self, ttl_seconds: float = 300.0, max_turns: int = 20_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_turns = max_turns
        self._turns: OrderedDict[str, TurnT] = OrderedDict()

    def get(self, key: str) -> TurnT | None:
        self._expire()
        return self._turns.get(key)

    def add(self, key: str, turn: TurnT) -> None:
        self._turns[key] = turn
        self._expire()

    def discard(self, key: str, turn: TurnT) -> None:
        """Forget `key` if it still names `turn` (a turn that was not answered: retry it)."""
        if self._turns.get(key) is turn:
            del self._turns[key]

    def __len__(self) -> int:
        return len(self._turns)

    def _expire(self) -> None:
        now = time.monotonic()
        while self._turns:
            key, oldest = next(iter(self._turns.items()))
            too_many = len(self._turns) > self.max_turns
            if not too_many and now - oldest.created < self.ttl_seconds:
                return
            del self._turns[key]
