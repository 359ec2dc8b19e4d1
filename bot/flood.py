"""Per-sender flood control: a token bucket for each citizen, so one flood slows no one else."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodControl:
    """Allows `burst` messages at once and `rate` per second after that, per sender."""

    def __init__(self, rate: float, burst: int, *, max_senders: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_senders = max_senders
        self._buckets: dict[str, _Bucket] = {}

    def check(self, sender_id: str, now: float | None = None) -> str:
        """'allow', 'warn' (first refusal: send a polite slow-down) or 'drop' (refuse silently)."""
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
            bucket.warned = True
            return "warn"
        return "drop"

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely; they hold no information."""
        full_after = self.burst / self.rate if self.rate > 0 else 0
        for sender_id in [s for s, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[sender_id]
