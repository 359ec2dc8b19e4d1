"""Counting rows per value in SQL (GROUP BY) over a date range, for the staff console's summaries.

The planner dashboard must render in 1 s over 100,000 needs and 100,000 unmet searches
(issue 12). Reading every row into Python took 0.6 s and 0.9 s on SQLite; a GROUP BY per
breakdown returns a few hundred rows each.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    cast,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from core.database import created_within

Grouping = ColumnElement[Any] | tuple[ColumnElement[Any], ...]


def grouped_counts(
    session: Session,
    column: Grouping,
    created_at: ColumnElement[datetime],
    since: datetime | None,
    until: datetime | None,
    distinct: ColumnElement[Any] | None = None,
) -> list[tuple[Any, int]]:
    """(value, rows) for each value of `column` (a tuple of columns: a tuple of values) among
    rows created in [since, until); with `distinct`, the number of different values of that
    column instead of rows (citizens)."""
    columns = column if isinstance(column, tuple) else (column,)
    if distinct is None:
        query = created_within(
            select(*columns, func.count()).group_by(*columns), created_at, since, until
        )
    else:  # the different (value, who) pairs first: hashed, where COUNT(DISTINCT) sorts
        pairs = created_within(
            select(*columns, distinct).distinct(), created_at, since, until
        ).subquery()
        values = list(pairs.columns)[: len(columns)]
        query = select(*values, func.count()).group_by(*values)
    return [
        (tuple(row[:-1]) if isinstance(column, tuple) else row[0], int(row[-1]))
        for row in session.execute(query).all()
    ]


def grouped_counts_by(
    session: Session,
    groupings: dict[str, Grouping],
    created_at: ColumnElement[datetime],
    since: datetime | None,
    until: datetime | None,
    distinct: ColumnElement[Any] | None = None,
) -> dict[str, list[tuple[Any, int]]]:
    """`grouped_counts` for each named grouping (no column in two of them). PostgreSQL counts
    them all in one scan of the table (GROUP BY GROUPING SETS); SQLite, which has no grouping
    sets, runs one query each."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # PostgreSQL guesses a group per row for expressions such as the day and, with the
        # default 4 MB, sorts or hashes on disk: 330 ms instead of 160 ms for 100,000 needs.
        # For this transaction only.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    # Grouping sets with COUNT(DISTINCT ...) sort every set (3 s for 100,000 needs): one
    # query per grouping, over the different (value, who) pairs, is faster there.
    if not postgres or len(groupings) < 2 or distinct is not None:
        return {
            name: grouped_counts(session, grouping, created_at, since, until, distinct)
            for name, grouping in groupings.items()
        }
    spans: dict[str, range] = {}
    expressions: list[ColumnElement[Any]] = []
    for name, grouping in groupings.items():
        columns = grouping if isinstance(grouping, tuple) else (grouping,)
        spans[name] = range(len(expressions), len(expressions) + len(columns))
        expressions.extend(columns)
    query = select(*expressions, func.grouping(*expressions), func.count()).group_by(
        func.grouping_sets(
            *[tuple_(*expressions[span.start : span.stop]) for span in spans.values()]
        )
    )
    found: dict[str, list[tuple[Any, int]]] = {name: [] for name in groupings}
    width = len(expressions)
    for row in session.execute(created_within(query, created_at, since, until)):
        # GROUPING(...) sets a bit, first column highest, for each column NOT grouped by.
        grouped = {i for i in range(width) if not row[width] & (1 << (width - 1 - i))}
        name = next(name for name, span in spans.items() if set(span) == grouped)
        span = spans[name]
        value = tuple(row[span.start : span.stop]) if len(span) > 1 else row[span.start]
        found[name].append((value, int(row[width + 1])))
    return found


def citizens_counted_by(
    session: Session,
    groupings: dict[str, tuple[Grouping, Callable[[Any], Iterable[Hashable]]]],
    created_at: ColumnElement[datetime],
    since: datetime | None,
    until: datetime | None,
    who: ColumnElement[Any],
) -> dict[str, dict[Hashable, int]]:
    """Different values of `who` (citizens) per key, for each named (grouping, keys): `keys`
    turns a grouped value into the keys it counts for (a case-folded query, an ISO week, each
    filter). Unlike adding per-value counts, a citizen whose values share a key (two spellings,
    two days of one week) is counted once there: open data must not count one person as two.
    Rows with no `who` count as one citizen together (the fewest they can be).

    The values are few (a few hundred questions, days, filters), the rows many: the values
    are read and given their keys in Python, then PostgreSQL counts the different citizens
    per key over a join with that small table of keys (hashed). Reading every (value, citizen)
    pair into Python instead took 5.8 s for the open-data export over 100,000 unmet searches.
    SQLite, which cannot name a VALUES table's columns, gets the pairs (small databases)."""
    if session.get_bind().dialect.name == "postgresql":
        return _citizens_per_key_in_one_scan(session, groupings, created_at, since, until, who)
    count = _citizens_per_key_in_python

    def within(query: Select[Any]) -> Select[Any]:
        return created_within(query, created_at, since, until)

    found: dict[str, dict[Hashable, int]] = {}
    for name, (grouping, keys) in groupings.items():
        columns = grouping if isinstance(grouping, tuple) else (grouping,)
        found[name] = dict(count(session, columns, keys, within, who).most_common())
    return found


def _citizens_per_key_in_one_scan(
    session: Session,
    groupings: dict[str, tuple[Grouping, Callable[[Any], Iterable[Hashable]]]],
    created_at: ColumnElement[datetime],
    since: datetime | None,
    until: datetime | None,
    who: ColumnElement[Any],
) -> dict[str, dict[Hashable, int]]:
    """`citizens_counted_by` on PostgreSQL in two scans of the table, whatever the number of
    groupings: each row is unfolded into one (grouping, value as text) pair per grouping
    (LATERAL unnest); the first scan lists the different pairs, which get their keys in
    Python; the second joins the pairs to a small VALUES table of keys (hashed on the
    grouping, whether the value is NULL and the value) and counts different citizens per
    (grouping, key). One scan per grouping and step took 3.4-6.6 s for the open-data export
    over 100,000 needs and 100,000 unmet searches under load (issue 12)."""
    names = list(groupings)
    dialect = session.get_bind().dialect
    expressions = []
    for name in names:
        columns = groupings[name][0]
        unfolded = (
            cast(func.json_build_array(*columns), String)
            if isinstance(columns, tuple)
            else cast(columns, String)
        )
        expressions.append(str(unfolded.compile(dialect=dialect, compile_kwargs=_LITERAL)))
    table = created_at.table.name  # type: ignore[attr-defined]
    unnest = (
        f"CROSS JOIN LATERAL unnest(ARRAY[{', '.join(str(i) for i in range(len(names)))}], "
        f"ARRAY[{', '.join(expressions)}]) AS pair(part, value)"
    )
    where, window = _window(created_at, since, until, dialect)
    folded: list[tuple[int, bool, str, str]] = []
    keys_of: dict[str, Hashable] = {}
    for number, raw in session.execute(
        text(f"SELECT DISTINCT pair.part, pair.value FROM {table} {unnest} {where}"), window
    ):
        grouping, keys = groupings[names[number]]
        value = tuple(json.loads(raw)) if raw is not None and isinstance(grouping, tuple) else raw
        for key in keys(value):
            keys_of[str(key)] = key
            folded.append((number, raw is None, raw or "", str(key)))
    found: dict[str, dict[Hashable, int]] = {name: {} for name in names}
    if not folded:
        return found
    fold = ", ".join(f"(:g{i}, :n{i}, :v{i}, :k{i})" for i in range(len(folded)))
    binds = dict(window)
    for i, (number, is_null, value, key) in enumerate(folded):
        binds |= {f"g{i}": number, f"n{i}": is_null, f"v{i}": value, f"k{i}": key}
    who_sql = str(who.compile(dialect=dialect))
    counted = session.execute(
        text(
            "SELECT part, key, COUNT(*) FROM (SELECT DISTINCT fold.part, fold.key, "
            f"{who_sql} FROM {table} {unnest} JOIN (VALUES {fold}) "
            "AS fold(part, is_null, value, key) ON fold.part = pair.part "
            "AND fold.is_null = (pair.value IS NULL) AND fold.value = COALESCE(pair.value, '') "
            f"{where}) AS who_asked GROUP BY part, key"
        ),
        binds,
    )
    per_name: dict[str, Counter[Hashable]] = {name: Counter() for name in names}
    for number, key, count in counted:
        per_name[names[number]][keys_of[key]] = int(count)
    return {name: dict(counts.most_common()) for name, counts in per_name.items()}


_LITERAL = {"literal_binds": True}


def _window(
    created_at: ColumnElement[datetime],
    since: datetime | None,
    until: datetime | None,
    dialect: Any,
) -> tuple[str, dict[str, Any]]:
    """A WHERE clause keeping rows created in [since, until), and its parameters."""
    column = str(created_at.compile(dialect=dialect))
    conditions, window = [], {}
    if since is not None:
        conditions.append(f"{column} >= :since")
        window["since"] = since
    if until is not None:
        conditions.append(f"{column} < :until")
        window["until"] = until
    return ("WHERE " + " AND ".join(conditions) if conditions else ""), window


def _citizens_per_key_in_python(
    session: Session,
    columns: tuple[ColumnElement[Any], ...],
    keys: Callable[[Any], Iterable[Hashable]],
    within: Callable[[Select[Any]], Select[Any]],
    who: ColumnElement[Any],
) -> Counter[Hashable]:
    query = within(select(*columns, who).distinct())
    citizens: dict[Hashable, set[Any]] = {}
    for row in session.execute(query):
        value = tuple(row[:-1]) if len(columns) > 1 else row[0]
        for key in keys(value):
            citizens.setdefault(key, set()).add(row[-1])
    return Counter({key: len(who_asked) for key, who_asked in citizens.items()})


def merged(rows: list[tuple[Any, int]], key: Callable[[Any], Hashable]) -> dict[Hashable, int]:
    """Counts of rows whose values `key` makes equal added together, largest first."""
    counts: Counter[Hashable] = Counter()
    for value, count in rows:
        counts[key(value)] += count
    return dict(counts.most_common())


def utc_day(session: Session, created_at: ColumnElement[datetime]) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column, as SQL this database understands."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", created_at))
    return func.date(created_at)


def as_date(value: object) -> date:
    """A day from `utc_day` (a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def iso_week(day: date) -> str:
    """'2026-W48': the ISO week a day belongs to (weekly trends)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly(rows: list[tuple[Any, int]]) -> dict[str, int]:
    """Per-day counts from `utc_day` added up per ISO week, oldest first."""
    counts: Counter[str] = Counter()
    for day, count in rows:
        if day is not None:
            counts[iso_week(as_date(day))] += count
    return dict(sorted(counts.items()))
