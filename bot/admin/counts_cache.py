"""The planner dashboard's counts kept for a short while, keyed by date range, so that a
planner moving between the dashboard, a drill-down and the two exports does not count the
range again each time.

A first view is already fast by design: it reads each past day's kept counts
(staff/rollups.py, bot/admin/rollup_counts.py) and counts only today and the citizens from
the raw rows. Kept counts answer in milliseconds. They expire after PLANNER_CACHE_SECONDS
(default 60; 0 turns the cache off); the page says when they were counted. New conversations
show within that time; a "forget me" shows at once, because the caller puts the number of
erasures so far (read from the shared database at every view) in the key
(bot/admin/planner_pages.py), so gateways sharing the database all count again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MOST_KEPT = 32  # ranges kept at once; the oldest goes first


@dataclass(frozen=True)
class Counted:
    """Counts and when they were counted."""

    value: Any
    at: datetime
    expires: float  # on the cache's clock


class CountsCache:
    """Values computed by `get(key, compute)`, kept for `seconds` (at most MOST_KEPT keys)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._kept: OrderedDict[Hashable, Counted] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Counted:
        """The kept value for `key` while fresh, else `compute()` (kept for next time)."""
        now = self._clock()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept.expires > now:
                return kept
        counted = Counted(compute(), datetime.now(UTC), self._clock() + self.seconds)
        if self.seconds > 0:
            with self._lock:
                self._kept[key] = counted
                self._kept.move_to_end(key)
                while len(self._kept) > MOST_KEPT:
                    self._kept.popitem(last=False)
        return counted

    def clear(self) -> None:
        """Forget every kept value (after a "forget me": they may hold the citizen's words)."""
        with self._lock:
            self._kept.clear()
