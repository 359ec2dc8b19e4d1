"""The dashboard's counts for a date range as the sum of its days' kept counts
(staff/rollups.py), so a first view costs a few rows per day, not a count of every event.

Each source (learning needs, unmet searches, conversations) is counted by its own summary
function (citizens, knowledge), one UTC day at a time. A day that ended more than
`SETTLED` ago is counted once and kept; the days after it (today, and the hour after
midnight while late turns may still be written) are counted from the raw rows at every view,
as are days whose kept counts "forget me" dropped until they are counted again. Adding the
days' counts gives exactly what one count over the range gives, because every count here is a
number of rows and every row belongs to one day (tests/admin/test_planner_rollups.py checks
arbitrary ranges against the raw count on SQLite and PostgreSQL). Numbers of different
citizens are not sums of days and are never read from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.database import session_scope
from staff.rollups import keep_day, kept_days

# A day is kept once it ended this long ago: Rasa writes a turn's events when the turn ends,
# with the times they happened, so the last turns of a day arrive just after midnight.
SETTLED = timedelta(hours=1)
# Settled days counted and kept per source in one view: the first view of a long range on a
# new database keeps at most this many and counts the older days raw (one query per run of
# days); the next views keep more.
KEPT_PER_VIEW = 31
# Breakdowns whose rows are in time order, not largest first.
_IN_TIME_ORDER = ("by_week", "searches_by_week", "conversations_by_hour")

Counter_ = Callable[[Session, datetime, datetime, timedelta], dict[str, Any]]


def summed_counts(
    database_url: str | None,
    source: str,
    first: date,
    last: date,
    utc_offset: timedelta,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`source`'s counts for the UTC days first..last: kept days read, settled days not yet
    kept counted and kept (up to KEPT_PER_VIEW, newest first), the rest counted from the raw
    rows."""
    count = counter(source)
    now = now or datetime.now(UTC)
    offset = int(utc_offset.total_seconds())
    last_settled = (now - SETTLED).date() - timedelta(days=1)
    with session_scope(database_url) as session:
        kept = kept_days(session, source, first, last, offset)
    parts = list(kept.values())
    raw: list[date] = []
    to_keep = KEPT_PER_VIEW
    for day in sorted(_days(first, last), reverse=True):  # the newest days are kept first
        if day in kept:
            continue
        if day > last_settled or to_keep == 0:
            raw.append(day)
            continue
        to_keep -= 1
        with session_scope(database_url) as session:
            counts = count(session, *_bounds(day, day), utc_offset)
        with session_scope(database_url) as session:
            keep_day(session, source, day, offset, counts)
        if source == "unmet":  # the day's questions get their meanings now, not per view
            from bot.admin.unmet_meanings import remember_day_meanings

            remember_day_meanings(database_url, counts.get("queries", []))
        parts.append(counts)
    for span_first, span_last in _spans(raw):
        with session_scope(database_url) as session:
            parts.append(count(session, *_bounds(span_first, span_last), utc_offset))
    return added(parts)


def counter(source: str) -> Counter_:
    """The summary function that counts `source` over [since, until)."""
    return {"needs": _needs, "unmet": _unmet, "conversations": _conversations}[source]


def added(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of several days added up: numbers added, {value: count} breakdowns added per
    value, unmet `queries` rows ([text, language, count]) added per (text, language)."""
    numbers: Counter[str] = Counter()
    breakdowns: dict[str, Counter[Any]] = {}
    queries: Counter[tuple[str, str]] = Counter()
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                breakdowns.setdefault(key, Counter()).update(value)
            elif isinstance(value, list):
                for text, language, count in value:
                    queries[(text, language)] += count
            else:
                numbers[key] += value
    result: dict[str, Any] = dict(numbers)
    for key, counts in breakdowns.items():
        if key in _IN_TIME_ORDER:
            result[key] = dict(sorted(counts.items()))
        else:
            result[key] = dict(sorted(counts.items(), key=lambda row: (-row[1], str(row[0]))))
    if any("queries" in part for part in parts):
        result["queries"] = [[text, language, n] for (text, language), n in queries.items()]
    return result


def _needs(session: Session, since: datetime, until: datetime, _: timedelta) -> dict[str, Any]:
    import citizens

    return citizens.needs_summary(session, since=since, until=until)


def _unmet(session: Session, since: datetime, until: datetime, _: timedelta) -> dict[str, Any]:
    import knowledge  # imported here: it loads the search index's libraries (about 1 s)

    return knowledge.unmet_demand_summary(session, since=since, until=until)


def _conversations(
    session: Session, since: datetime, until: datetime, utc_offset: timedelta
) -> dict[str, Any]:
    """Conversations, searches, conversations by hour and searches by week (city time); the
    number of citizens is left out (bot/admin/dashboard.py counts it over the whole range)."""
    import citizens
    from bot.admin.dashboard import SEARCH_ACTIONS

    totals = asdict(
        citizens.conversation_totals(
            session, since, until, SEARCH_ACTIONS, utc_offset, with_citizens=False
        )
    )
    del totals["citizens"]
    return totals


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return since, datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _spans(days: list[date]) -> list[tuple[date, date]]:
    """Runs of consecutive days as (first, last), so the raw rows are read once per run."""
    spans: list[tuple[date, date]] = []
    for day in sorted(days):
        if spans and spans[-1][1] + timedelta(days=1) == day:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans
