"""WeChat callback replay protection: fresh timestamps and nonces used once per message.

WeChat's URL `signature` covers only Token, timestamp and nonce, not the body: a query string
that leaked (a proxy's access log) would otherwise let anyone post any message as any
citizen, forever. So a callback is refused when its timestamp is more than
`WINDOW_SECONDS` from our clock, and a (timestamp, nonce) pair is remembered for that window
together with a digest of the body it came with: the same pair with another body is refused.
The same pair with the same body is WeChat redelivering a message (or a replay of it), which
the turn ledger answers once anyway.

`NonceStore` is the seam for sharing the memory between gateway replicas (Redis, with
`SET key digest NX EX window` then a comparison); `InProcessNonces` serves one process.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

WINDOW_SECONDS = 300.0  # WeChat's servers keep good time; five minutes covers slow retries
MAX_REMEMBERED = 200_000  # ~100 callbacks a second for the whole window


class NonceStore(Protocol):
    async def claim(self, key: str, digest: str, ttl_seconds: float) -> bool:
        """True if `key` is new (now remembered with `digest`) or was remembered with `digest`."""
        ...


class InProcessNonces:
    """Nonces remembered in this process, each for `ttl_seconds`, at most `max_keys` at once."""

    def __init__(
        self, max_keys: int = MAX_REMEMBERED, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._seen: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def claim(self, key: str, digest: str, ttl_seconds: float) -> bool:
        now = self._clock()
        self._expire(now)
        known = self._seen.get(key)
        if known is not None:
            return hmac.compare_digest(known[1], digest)
        self._seen[key] = (now + ttl_seconds, digest)
        while len(self._seen) > self.max_keys:
            # Full: forgetting the oldest is safe, since its timestamp is about to go stale.
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._seen)

    def _expire(self, now: float) -> None:
        while self._seen:
            key, (expires, _) = next(iter(self._seen.items()))
            if expires > now:
                return
            del self._seen[key]


class ReplayGuard:
    """Decides whether a correctly signed callback is fresh and its nonce not reused."""

    def __init__(
        self,
        nonces: NonceStore | None = None,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.nonces = nonces if nonces is not None else InProcessNonces()
        self.window_seconds = window_seconds
        self._clock = clock

    def stale(self, timestamp: str) -> str | None:
        """Why the timestamp cannot be accepted ("stale timestamp", ...), or None if fresh."""
        try:
            sent_at = int(timestamp)
        except ValueError:
            return "malformed timestamp"
        if abs(self._clock() - sent_at) > self.window_seconds:
            return "stale timestamp"
        return None

    async def reused(self, timestamp: str, nonce: str, body: bytes) -> str | None:
        """ "reused nonce" if this (timestamp, nonce) came before with another body, else None.

        Call it last, once everything else about the request checked out, so a refused
        request never uses up a nonce."""
        if not nonce:
            return "missing nonce"
        digest = hashlib.sha256(body).hexdigest()
        # Remembered a little longer than the window, so a pair cannot outlive its memory.
        ttl = 2 * self.window_seconds + 1
        if not await self.nonces.claim(f"{timestamp}:{nonce}", digest, ttl):
            return "reused nonce"
        return None
