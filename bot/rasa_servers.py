"""Which Rasa server takes a citizen's turn: always the same one, or any that answers.

Without a shared lock store every Rasa server orders a conversation's turns only among the
turns it receives itself, so a citizen must always reach the same server: chosen by a hash
of the sender id (stable across restarts of the gateway).

With `REDIS_URL` set, Rasa servers share Rasa's `RedisLockStore` (nlu/serving.py): a
citizen's turns are taken one at a time and in order whichever server gets them, and the
conversation lives in the shared SQL tracker store. Then turns are spread round-robin, and a
server that refused a connection is passed over for `DOWN_SECONDS`: a refused connection
means the turn never reached it, so sending it to the next server cannot answer it twice.
"""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Sequence

DOWN_SECONDS = 5.0  # a server that refused a connection is tried last for this long


class RasaServers:
    """The Rasa servers one gateway talks to, and the order to try them in for one turn."""

    def __init__(
        self, urls: Sequence[str], *, shared_lock: bool, down_seconds: float = DOWN_SECONDS
    ) -> None:
        if not urls:
            raise ValueError("at least one Rasa server URL is needed")
        self.urls = [url.rstrip("/") for url in urls]
        self.shared_lock = shared_lock
        self.down_seconds = down_seconds
        self._next = itertools.count()
        self._down_until: dict[str, float] = {}

    def for_sender(self, sender_id: str) -> str:
        """The server that holds this citizen's turns when there is no shared lock."""
        return self.urls[zlib.crc32(sender_id.encode("utf-8")) % len(self.urls)]

    def candidates(self, sender_id: str) -> list[str]:
        """Servers to try for one turn, in order: one without a shared lock; with it, every
        server, round-robin, those that refused a connection lately last."""
        if not self.shared_lock or len(self.urls) == 1:
            return [self.for_sender(sender_id)]
        start = next(self._next) % len(self.urls)
        rotated = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        return sorted(rotated, key=lambda url: self._down_until.get(url, 0.0) > now)

    def refused(self, url: str) -> None:
        """`url` refused a connection: try the others first for a while."""
        self._down_until[url] = time.monotonic() + self.down_seconds
