"""The planner dashboard: learning needs and unmet demand counted by topic, district, language,
time and week over a date range, against totals of use (citizens, conversations, searches);
as SVG bars, a CSV export and an open-data CSV that leaves out small counts. Counts only:
nothing personal is read or shown.

It reads through the `citizens` and `knowledge` packages' summaries, never their tables.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.database import session_scope

DEFAULT_DAYS = 30
CHART_ROWS = 12  # the longest rows a chart shows; the CSV has every row
_LABEL_WIDTH = 24  # a chart label's room (180 SVG units), in half-width characters
OPEN_DATA_MINIMUM = 5  # the open-data export leaves out any count under this
SUPPRESSED_VALUE = "(fewer than 5 each)"

USE_TOTALS = ("citizens", "conversations", "searches")
BREAKDOWNS = (
    "by_topic",
    "by_query",
    "by_district",
    "by_language",
    "by_time",
    "by_age_group",
    "by_filter",
    "by_week",
)
# The actions that run a catalog search (nlu/domain): each run is one search for the totals.
SEARCH_ACTIONS = (
    "action_search_courses",
    "action_find_learning_spaces",
    "action_list_events",
    "action_search_nearby",
)
# Breakdowns whose rows are in time order, not largest first.
IN_TIME_ORDER = ("by_week", "searches_by_week", "conversations_by_hour")
# (section, breakdown, words key of the chart's title)
CHARTS = (
    ("conversations", "conversations_by_hour", "conversations_by_hour"),
    ("conversations", "searches_by_week", "searches_by_week"),
    ("needs", "by_topic", "needs_by_topic"),
    ("needs", "by_district", "needs_by_district"),
    ("needs", "by_language", "needs_by_language"),
    ("needs", "by_time", "needs_by_time"),
    ("needs", "by_age_group", "needs_by_age_group"),
    ("needs", "by_week", "needs_by_week"),
    ("unmet", "by_district", "unmet_by_district"),
    ("unmet", "by_language", "unmet_by_language"),
    ("unmet", "by_filter", "unmet_by_filter"),
    ("unmet", "by_week", "unmet_by_week"),
)


@dataclass(frozen=True)
class DateRange:
    """Whole days, `first` to `last` inclusive (UTC)."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime(self.last.year, self.last.month, self.last.day, tzinfo=UTC) + timedelta(
            days=1
        )


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str
    count: int
    width: float  # 0..1 of the longest bar


def chosen_range(params: dict[str, str], today: date | None = None) -> tuple[DateRange, bool]:
    """The range from the `from` and `to` fields (YYYY-MM-DD); the last 30 days when absent.
    Returns (range, whether the fields were readable)."""
    today = today or datetime.now(UTC).date()
    default = DateRange(today - timedelta(days=DEFAULT_DAYS - 1), today)
    first_text, last_text = params.get("from", ""), params.get("to", "")
    if not first_text and not last_text:
        return default, True
    try:
        first = date.fromisoformat(first_text) if first_text else default.first
        last = date.fromisoformat(last_text) if last_text else default.last
    except ValueError:
        return default, False
    if first > last:
        return default, False
    return DateRange(first, last), True


def planner_counts(
    database_url: str | None, period: DateRange, *, open_data: bool = False
) -> dict[str, Any]:
    """Everything the dashboard shows for the range: "needs" (citizens.needs_summary) and
    "unmet" (knowledge.unmet_demand_summary), both counted as different citizens with
    `open_data`, "groups" (the unmet questions grouped across languages and typos),
    "conversations" (citizens.conversation_totals as a dict) and "answered" (the share of
    searches that found something, None before any search)."""
    import citizens
    import knowledge  # imported here: it loads the search index's libraries (about 1 s)
    from bot.admin.rollup_counts import summed_counts
    from bot.admin.unmet_meanings import merged_by_meaning

    offset = _city_utc_offset()

    def read(summary: Callable[[Session], Any]) -> Any:
        with session_scope(database_url) as session:
            return summary(session)

    def summed(source: str) -> dict[str, Any]:
        return summed_counts(database_url, source, period.first, period.last, offset)

    def citizens_counted(source: str) -> dict[str, Any]:
        if source == "needs":
            return read(
                lambda session: citizens.needs_summary(
                    session, since=period.since, until=period.until, citizens=True
                )
            )
        summary, askers = read(
            lambda session: knowledge.unmet_citizens_summary(session, period.since, period.until)
        )
        return {**summary, "askers": askers}  # taken out below: never kept with the counts

    # Sums of rows come from the days' kept counts (bot/admin/rollup_counts.py); numbers of
    # different citizens are counted over the whole range. Four connections at once.
    with ThreadPoolExecutor(max_workers=4) as pool:
        count = citizens_counted if open_data else summed
        needs_read, unmet_read = pool.submit(count, "needs"), pool.submit(count, "unmet")
        totals_read = pool.submit(summed, "conversations")
        who_read = pool.submit(
            read,
            lambda session: citizens.conversation_citizens(session, period.since, period.until),
        )
        needs, unmet = needs_read.result(), unmet_read.result()
        totals = {"citizens": who_read.result(), **totals_read.result()}
    asked = {(text, language): count for text, language, count in unmet["queries"]}
    with session_scope(database_url) as session:  # meanings kept with the day counts
        groups = merged_by_meaning(session, knowledge.group_unmet_demand(asked))
    if open_data:  # a citizen who asked two ways of one group is one citizen there
        # The senders gathered by the same read of the unmet rows; never kept or shown.
        askers = knowledge.citizens_per_group(None, groups, askers=unmet.pop("askers"))
        unmet["by_group"] = {group.label: askers[group.key] for group in groups}
    else:
        unmet["by_group"] = {group.label: group.count for group in groups}
    searches = totals["searches"]
    answered = max(0, searches - unmet["total"]) / searches if searches else None
    return {
        "needs": needs,
        "unmet": unmet,
        "groups": groups,
        "conversations": totals,
        "answered": answered,
    }


def group_queries(counts: dict[str, Any], key: str) -> Any:
    """The unmet group with this key (its queries and counts), or None."""
    return next((group for group in counts["groups"] if group.key == key), None)


def _city_utc_offset() -> timedelta:
    """The city's offset from UTC now (hours of the day are the city's)."""
    from knowledge.city import load_city

    zone = ZoneInfo(load_city().time_zone)
    return datetime.now(zone).utcoffset() or timedelta(0)


def bars(counts: dict[str, int], limit: int = CHART_ROWS, *, in_order: bool = False) -> list[Bar]:
    """The largest `limit` rows of a breakdown (or, `in_order`, the last `limit` rows as given,
    for weeks), each with its share of the longest bar."""
    if in_order:
        rows = list(counts.items())[-limit:]
    else:
        rows = sorted(counts.items(), key=lambda row: (-row[1], str(row[0])))[:limit]
    longest = max((count for _, count in rows), default=0) or 1
    return [
        Bar(
            label=str(label),
            short_label=_shorten(str(label)),
            count=count,
            width=count / longest,
        )
        for label, count in rows
    ]


def counts_csv(counts: dict[str, Any], period: DateRange) -> str:
    """Every row of every breakdown: section, breakdown, value, count (plus the totals)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for section, breakdown, rows in _breakdowns(counts):
        for value, count in rows.items():
            writer.writerow([period.first, period.last, section, breakdown, _cell(value), count])
    return out.getvalue()


def open_data_csv(counts: dict[str, Any], period: DateRange) -> str:
    """The counts for publishing: a row under `OPEN_DATA_MINIMUM` is left out (its value could
    point to a person, e.g. an unusual question), and the left-out rows appear as one
    "(fewer than 5 each)" row whose count itself shows only when it reaches the minimum.
    Pass counts from `planner_counts(..., open_data=True)`: needs are then counted as
    different citizens."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for section, breakdown, rows in _breakdowns(counts):
        hidden = 0
        for value, count in rows.items():
            if breakdown == "total":
                writer.writerow(
                    [period.first, period.last, section, breakdown, value, _published(count)]
                )
            elif count < OPEN_DATA_MINIMUM:
                hidden += count
            else:
                writer.writerow(
                    [period.first, period.last, section, breakdown, _cell(value), count]
                )
        if hidden:
            row = [period.first, period.last, section, breakdown, SUPPRESSED_VALUE]
            writer.writerow([*row, _published(hidden)])
    return out.getvalue()


CSV_COLUMNS = ["from", "to", "section", "breakdown", "value", "count"]


def _breakdowns(counts: dict[str, Any]) -> list[tuple[str, str, dict[Any, int]]]:
    """(section, breakdown, {value: count}) in the exports' order; totals first."""
    use = counts["conversations"]
    found = [
        ("conversations", "total", {name: use[name] for name in USE_TOTALS}),
        ("conversations", "conversations_by_hour", use["conversations_by_hour"]),
        ("conversations", "searches_by_week", use["searches_by_week"]),
    ]
    for section in ("needs", "unmet"):
        summary = counts[section]
        found.append((section, "total", {"": summary["total"]}))
        for breakdown in (*BREAKDOWNS, "by_group"):
            if breakdown in summary:
                found.append((section, breakdown, summary[breakdown]))
    return found


def _published(count: int) -> str:
    return str(count) if count >= OPEN_DATA_MINIMUM else f"<{OPEN_DATA_MINIMUM}"


def _cell(value: object) -> str:
    """A citizen's words as a spreadsheet cell that is never read as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _shorten(label: str) -> str:
    """The label cut to fit a chart's label column: a Chinese character takes the room of
    two Latin ones (a 21-character Chinese topic overflowed the chart's left edge)."""
    used = 0
    for end, character in enumerate(label):
        used += 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1
        if used > _LABEL_WIDTH:
            return label[: max(end - 1, 1)] + "…"
    return label
