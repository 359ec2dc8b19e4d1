"""Which events are still to come, and in what order: the answer to "what's on?"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from knowledge.documents import CatalogItem
from knowledge.search.occurrences import at_clock, held_on, next_date, repeats
from knowledge.search.results import SearchResult
from knowledge.search.when import DEFAULT_TIME_ZONE, DateSpan


def still_to_come(
    results: Iterable[SearchResult], now: datetime | None = None, tz: str = DEFAULT_TIME_ZONE
) -> list[SearchResult]:
    """The events among `results` that have not ended, soonest first (undated ones last); a
    repeating event by its next date in the city (a monthly series begun in September comes
    after a fair next week when its next date is next month)."""
    moment = now or datetime.now(UTC)
    zone = ZoneInfo(tz)
    dated: list[tuple[datetime, SearchResult]] = []
    undated: list[SearchResult] = []
    for result in results:
        if _ended(result.item, moment):
            continue
        start = _next_start(result.item, moment, zone) or _moment(
            result.item.start, end_of_day=False
        )
        if start is None:
            undated.append(result)
        else:
            dated.append((start, result))
    dated.sort(key=lambda pair: pair[0])
    return [result for _, result in dated] + undated


def happening_within(
    results: Iterable[SearchResult], span: DateSpan, tz: str = DEFAULT_TIME_ZONE
) -> list[SearchResult]:
    """The events and courses among `results` held on at least one day of `span` (the city's
    dates, e.g. from `resolve_when("this weekend", ...)`): a repeating session that takes
    place on one of its days (weekly, every n weeks, monthly by nth weekday or day of the
    month, yearly, exception dates left out: `occurrences.py`); a session that is one span
    of dates, or an item's own start and end, that meet the span. An item with no date at
    all is not kept. Order is kept."""
    zone = ZoneInfo(tz)
    return [result for result in results if held_within(result.item, span, zone)]


def held_within(item: CatalogItem, span: DateSpan, zone: ZoneInfo) -> bool:
    """Whether `item` is held on one of the days of `span` (see `happening_within`)."""
    spans: list[tuple[date | None, date | None]] = []
    for session in item.sessions:
        if repeats(session):
            if any(held_on(session, day) for day in span.days):
                return True
        elif session.start_date:
            spans.append(
                (_local_date(session.start_date, zone), _local_date(session.end_date, zone))
            )
    if not spans and not any(repeats(session) for session in item.sessions):
        spans.append((_local_date(item.start, zone), _local_date(item.end, zone)))
    return any(
        first is not None and first <= span.end and span.start <= (last or first)
        for first, last in spans
    )


def _next_start(item: CatalogItem, moment: datetime, zone: ZoneInfo) -> datetime | None:
    """When a repeating event next begins in the city (at its session's start time, else the
    start of that day); None for a one-off event."""
    today = moment.astimezone(zone).date()
    starts = []
    for session in item.sessions:
        if not repeats(session):
            continue
        day = next_date(session, today)
        if day is None:
            continue
        starts.append(at_clock(day, session.start_time, zone))
    return min(starts) if starts else None


def _local_date(value: str | None, zone: ZoneInfo) -> date | None:
    """The city's date of an ISO date or date-time (a date is taken as the city's own)."""
    if not value:
        return None
    text = value.strip()
    if "T" not in text and " " not in text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    moment = _moment(text, end_of_day=False)
    return None if moment is None else moment.astimezone(zone).date()


def _ended(item: CatalogItem, moment: datetime) -> bool:
    """Over by `moment`: a repeating event after its last date (never, if it has none)."""
    repeating = [session for session in item.sessions if repeats(session) or session.end_date]
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
