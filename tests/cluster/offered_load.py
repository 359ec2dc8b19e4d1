"""Citizens' messages arriving at a fixed offered rate (open loop), not as fast as answers come.

`CitizenLoad` is a closed loop: each citizen writes again a second after its answer, so the
rate offered falls as latency grows and a saturated stack shows up as seconds of p95 at
whatever rate the cores give. Here message k is due at `k / rate` seconds, whatever happened
to the ones before: the test of "this many messages a second with p95 ≤ 500 ms". Each
message goes to the citizen of the pool that has been idle longest (a web chat citizen for
every three on Telegram, each in one of the seven languages, on their script), so a citizen
still writes one message at a time and in order. When every citizen is still waiting for an
answer the message waits for the first one free, and its latency counts from when it was
due: a stack that falls behind is not let off by the load slowing down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from bench.report import percentile
from tests.cluster.load import ANSWER_TIMEOUT_SECONDS, CitizenLoad, web_client

LATE_START_SECONDS = 0.05  # a message sent later than this after it was due "started late"


@dataclass
class WindowReport:
    """The messages that were due in one window and how each ended."""

    offered_per_second: float
    sent: int
    answered: int
    try_again: int
    unreachable: int
    lost: int
    late_starts: int  # sent more than LATE_START_SECONDS after due: every citizen was busy
    answered_per_second: float  # answers to these messages over the time they took
    p50_ms: float
    p95_ms: float

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass
class OfferedLoad(CitizenLoad):
    """`CitizenLoad` driven at `rate` messages a second by a pool of citizens (open loop)."""

    rate: float = 10.0
    _due: list[float] = field(default_factory=list)  # when each message sent was due
    _late: list[float] = field(default_factory=list)  # the same, of those sent late

    @property
    def citizens(self) -> int:
        return self.web_citizens + self.telegram_citizens

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CitizenLoad]:
        """Messages arrive at `rate` until the block ends; each one sent is then finished."""
        self._begin()
        async with (
            web_client() as web,
            httpx.AsyncClient(
                timeout=ANSWER_TIMEOUT_SECONDS, limits=httpx.Limits(max_connections=None)
            ) as telegram,
        ):
            dispatcher = asyncio.create_task(self._dispatch(web, telegram))
            try:
                yield self
            finally:
                self._stop.set()
                await dispatcher
                self._end()

    async def _dispatch(self, web: httpx.AsyncClient, telegram: httpx.AsyncClient) -> None:
        idle: asyncio.Queue[int] = asyncio.Queue()
        for index in self._pool_order():
            idle.put_nowait(index)
        turns: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        while True:
            due = started + len(self._due) / self.rate
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, due - time.monotonic())):
                    await self._stop.wait()
            if self._stop.is_set():
                break
            index = await idle.get()  # the citizen idle longest; waits if all are busy
            if time.monotonic() - due > LATE_START_SECONDS:
                self._late.append(due)
            self._due.append(due)
            task = asyncio.create_task(self._one_turn(index, due, web, telegram, idle))
            turns.add(task)
            task.add_done_callback(turns.discard)
        await asyncio.gather(*turns)

    def _pool_order(self) -> list[int]:
        """Citizen indexes: web citizens are 0.., Telegram citizens 0.. too (apart by kind:
        negative for web); spread so that every fourth message comes from the web page."""
        web = [-(n + 1) for n in range(self.web_citizens)]
        telegram = list(range(self.telegram_citizens))
        order: list[int] = []
        while web or telegram:
            if web and (not telegram or len(order) % 4 == 0):
                order.append(web.pop(0))
            else:
                order.append(telegram.pop(0))
        return order

    async def _one_turn(
        self,
        index: int,
        due: float,
        web: httpx.AsyncClient,
        telegram: httpx.AsyncClient,
        idle: asyncio.Queue[int],
    ) -> None:
        try:
            if index < 0:
                await self._web_turn(web, -index - 1, due)
            else:
                await self._telegram_turn(telegram, index, due)
        finally:
            idle.put_nowait(index)

    def window(self, since: float, until: float) -> WindowReport:
        """The messages due in [since, until) and how each ended (after `running` ended):
        `sent` counts them as they were sent, the outcomes as they ended."""
        turns = [turn for turn in self.turns if since <= turn.sent_at < until]
        outcomes = Counter(turn.outcome for turn in turns)
        latencies = sorted(turn.seconds for turn in turns if turn.seconds is not None)
        replied = [
            turn.sent_at + turn.seconds
            for turn in turns
            if turn.outcome == "answered" and turn.seconds is not None
        ]
        span = (max(replied) - since) if replied else 0.0
        return WindowReport(
            offered_per_second=self.rate,
            sent=sum(1 for due in self._due if since <= due < until),
            answered=outcomes["answered"],
            try_again=outcomes["try_again"],
            unreachable=outcomes["unreachable"],
            lost=outcomes["lost"],
            late_starts=sum(1 for due in self._late if since <= due < until),
            # Over the window or, when the last answers came after it, until they did.
            answered_per_second=round(len(replied) / max(span, until - since), 1),
            p50_ms=round(percentile(latencies, 50) * 1000) if latencies else 0.0,
            p95_ms=round(percentile(latencies, 95) * 1000) if latencies else 0.0,
        )
