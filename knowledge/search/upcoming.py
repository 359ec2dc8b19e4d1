"""Which events are still to come, and in what order: the answer to "what's on?"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from knowledge.documents import CatalogItem
from knowledge.search.results import SearchResult


def still_to_come(
    results: Iterable[SearchResult], now: datetime | None = None
) -> list[SearchResult]:
    """The events among `results` that have not ended, soonest first (undated ones last)."""
    moment = now or datetime.now(UTC)
    dated: list[tuple[datetime, SearchResult]] = []
    undated: list[SearchResult] = []
    for result in results:
        start = _moment(result.item.start, end_of_day=False)
        if _ended(result.item, moment):
            continue
        if start is None:
            undated.append(result)
        else:
            dated.append((start, result))
    dated.sort(key=lambda pair: pair[0])
    return [result for _, result in dated] + undated


def _ended(item: CatalogItem, moment: datetime) -> bool:
    """Over by `moment`: a repeating event after its last date (never, if it has none)."""
    repeating = [session for session in item.sessions if session.days or session.end_date]
    if repeating:
        last_dates = [_moment(session.end_date, end_of_day=True) for session in repeating]
        if any(last is None for last in last_dates):
            return False
        return max(last for last in last_dates if last is not None) < moment
    end = _moment(item.end, end_of_day=True) or _moment(item.start, end_of_day=True)
    return end is not None and end < moment


def _moment(value: str | None, end_of_day: bool) -> datetime | None:
    """An ISO date or date-time as an aware moment (dates: the start or end of that day, UTC;
    times without a zone: UTC)."""
    if not value:
        return None
    text = value.strip()
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text)
        else:
            day = date.fromisoformat(text)
            moment = (
                datetime(day.year, day.month, day.day, 23, 59, 59)
                if end_of_day
                else (datetime(day.year, day.month, day.day))
            )
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
