"""'What's on?': events still to come, soonest first; repeating ones until their last date."""

from __future__ import annotations

from datetime import UTC, datetime

from knowledge.documents import CatalogItem, Session
from knowledge.search.results import SearchResult
from knowledge.search.upcoming import still_to_come

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _event(item_id: str, start: str, end: str | None = None, sessions=()) -> SearchResult:  # type: ignore[no-untyped-def]
    item = CatalogItem(
        id=item_id, type="event", name=item_id, start=start, end=end, sessions=tuple(sessions)
    )
    return SearchResult(item, 1.0, None, True)


def test_events_to_come_are_listed_soonest_first_and_past_ones_left_out() -> None:
    events = [
        _event("festival", "2027-04-24T09:30:00+08:00", "2027-04-24T17:00:00+08:00"),
        _event("fair", "2026-12-12T10:00:00+08:00", "2026-12-12T16:00:00+08:00"),
        _event("last-month", "2026-11-02T10:00:00+08:00", "2026-11-02T12:00:00+08:00"),
        _event("all-day-today", "2026-12-01"),
        _event("yesterday", "2026-11-30"),
    ]
    assert [r.item.id for r in still_to_come(events, NOW)] == ["all-day-today", "fair", "festival"]


def test_a_repeating_event_stays_until_its_last_date() -> None:
    monthly = _event(
        "maker-saturday",
        "2026-09-05T14:00:00+08:00",
        "2026-09-05T18:00:00+08:00",
        [Session("monthly Sat 14:00-18:00", ("saturday",), "14:00", "18:00", "2026-09-05", None)],
    )
    finished = _event(
        "summer-series",
        "2026-06-06T14:00:00+08:00",
        None,
        [Session("Sat", ("saturday",), None, None, "2026-06-06", "2026-08-29")],
    )
    assert [r.item.id for r in still_to_come([finished, monthly], NOW)] == ["maker-saturday"]
