"""The dashboard's counts are kept per date range for PLANNER_CACHE_SECONDS: a second view
within that time shows the same counts (and says when they were counted), a later one counts
again, another range is counted on its own, and 0 turns the keeping off."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest

import citizens
from bot.admin.counts_cache import MOST_KEPT, CountsCache
from core.database import session_scope
from core.settings import get_settings
from tests.admin.console_support import console_app, log_in


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_value_is_reused_until_it_expires_and_ranges_are_kept_apart() -> None:
    clock = _Clock()
    cache = CountsCache(60, clock)
    computed: list[str] = []

    def compute(name: str):  # type: ignore[no-untyped-def]
        return lambda: computed.append(name) or len(computed)

    first = cache.get(("2026-11", False), compute("november"))
    clock.now += 59
    again = cache.get(("2026-11", False), compute("november"))
    other = cache.get(("2026-10", False), compute("october"))
    clock.now += 2
    later = cache.get(("2026-11", False), compute("november"))

    assert (first.value, again.value, other.value, later.value) == (1, 1, 2, 3)
    assert computed == ["november", "october", "november"]


def test_no_more_than_the_most_kept_ranges_are_held() -> None:
    cache = CountsCache(60, _Clock())
    for number in range(MOST_KEPT + 5):
        cache.get(number, lambda number=number: number)
    recomputed = cache.get(0, lambda: "again")
    assert recomputed.value == "again"


@pytest.mark.parametrize("seconds", ["3600", "0"])
async def test_the_dashboard_shows_kept_counts_within_the_cache_time(
    database_url: str, monkeypatch: pytest.MonkeyPatch, seconds: str
) -> None:
    monkeypatch.setenv("PLANNER_CACHE_SECONDS", seconds)
    get_settings.cache_clear()
    app, conversation = console_app(database_url, {"li": "planner"})
    need = citizens.LearningNeed(topic="pottery", district="Nanhu", language="en")
    with session_scope(database_url) as session:
        citizens.register_learning_need(session, "web:1", need, consent=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "li")
        first = await client.get("/admin/planner")
        with session_scope(database_url) as session:
            citizens.register_learning_need(session, "web:2", need, consent=True)
        second = await client.get("/admin/planner")
        today = date.today().isoformat()
        other_range = await client.get(f"/admin/planner?from=2026-01-01&to={today}")
    await conversation.close()
    get_settings.cache_clear()

    def needs_total(page: httpx.Response) -> str:
        found = re.search(r'id="needs-total">(\d+)<', page.text)
        assert found is not None
        return found.group(1)

    assert needs_total(first) == "1"
    assert needs_total(second) == ("1" if seconds == "3600" else "2")
    assert needs_total(other_range) == "2", "another range is counted on its own"
    assert f"the same counts are shown for up to {seconds} seconds" in first.text
