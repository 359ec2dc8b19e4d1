"""Which Rasa server takes a citizen's turn: always the same one, or the same one while it answers.

Without a shared lock store every Rasa server orders a conversation's turns only among the
turns it receives itself, so a citizen must always reach the same server: chosen by a hash
of the sender id (stable across restarts of the gateway).

With `REDIS_URL` set, Rasa servers share Rasa's `RedisLockStore` (nlu/serving.py): a
citizen's turns are taken one at a time and in order whichever server gets them, and the
conversation lives in the shared SQL tracker store. Any server may then take any turn, but a
citizen's turns still go first to the server their hash picks (every gateway replica picks the
same): it holds their conversation in memory (nlu/tracker_store.py) and answers from it after
one check, where a server that took the turn before last must first read and replay the turns
the other stored (spreading every citizen's turns round-robin cost each turn that replay; see
docs/sizing.md). Citizens still spread over every server by their hash. A server that refused
a connection is passed over for `DOWN_SECONDS`, its citizens going to the next one: a refused
connection means the turn never reached it, so sending it to the next server cannot answer it
twice.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence

DOWN_SECONDS = 5.0  # a server that refused a connection is tried last for this long
# Sent with every turn: a load balancer in front of several Rasa servers (deploy/haproxy.cfg,
# `balance hdr(...)`) keeps a citizen on one server by it, as `candidates` does. A hash of the
# sender id, not the id itself, so no balancer log holds who wrote.
CONVERSATION_HEADER = "X-Learncity-Conversation"


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
        self._down_until: dict[str, float] = {}

    def for_sender(self, sender_id: str) -> str:
        """The server that holds this citizen's turns (with a shared lock: while it answers)."""
        return self.urls[zlib.crc32(sender_id.encode("utf-8")) % len(self.urls)]

    @staticmethod
    def conversation_key(sender_id: str) -> str:
        """What CONVERSATION_HEADER carries for this citizen."""
        return f"{zlib.crc32(sender_id.encode('utf-8')):08x}"

    def candidates(self, sender_id: str) -> list[str]:
        """Servers to try for one turn, in order: one without a shared lock; with it, every
        server, the citizen's own first and the others after it in turn, those that refused
        a connection lately last."""
        if not self.shared_lock or len(self.urls) == 1:
            return [self.for_sender(sender_id)]
        start = self.urls.index(self.for_sender(sender_id))
        rotated = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        return sorted(rotated, key=lambda url: self._down_until.get(url, 0.0) > now)

    def refused(self, url: str) -> None:
        """`url` refused a connection: try the others first for a while."""
        self._down_until[url] = time.monotonic() + self.down_seconds
