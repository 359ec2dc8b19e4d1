"""Per-sender flood control: a token bucket for each citizen, so one flood slows no one else.

A message that finds the bucket empty is refused. The first refusal after the bucket was last
full is answered with a polite slow-down ('warn'); after that, a citizen who keeps writing
gets a short "please wait a moment" ('remind') at most once per refill time (`burst / rate`
seconds, the time an empty bucket takes to fill), and silence in between ('drop'). So a
citizen is never left wondering for long, and a flood of N messages gets at most one reply
per refill time however large N is: replying never amplifies it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False
    noticed: float = 0.0  # when the last 'warn' or 'remind' was given


class FloodControl:
    """Allows `burst` messages at once and `rate` per second after that, per sender."""

    def __init__(self, rate: float, burst: int, *, max_senders: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_senders = max_senders
        self._buckets: dict[str, _Bucket] = {}

    @property
    def refill_seconds(self) -> float:
        """How long an empty bucket takes to fill: at most one reminder per this long."""
        return self.burst / self.rate if self.rate > 0 else float("inf")

    def check(self, sender_id: str, now: float | None = None) -> str:
        """'allow'; 'warn' (first refusal: send the polite slow-down); 'remind' (a later
        refusal, at most once per refill time: send a short "please wait a moment"); or
        'drop' (refuse silently)."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(sender_id)
        if bucket is None:
            if len(self._buckets) >= self.max_senders:
                self._forget_idle(now)
            bucket = self._buckets[sender_id] = _Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= self.burst:
            bucket.warned = False  # a full bucket means the sender calmed down
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return "allow"
        if not bucket.warned:
            bucket.warned, bucket.noticed = True, now
            return "warn"
        if now - bucket.noticed >= self.refill_seconds:
            bucket.noticed = now
            return "remind"
        return "drop"

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely; they hold no information."""
        full_after = self.burst / self.rate if self.rate > 0 else 0
        for sender_id in [s for s, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[sender_id]
