"""Counting rows per value in SQL (GROUP BY) over a date range, for the staff console's summaries.

The planner dashboard must render in 1 s over 100,000 needs and 100,000 unmet searches
(issue 12). Reading every row into Python took 0.6 s and 0.9 s on SQLite; a GROUP BY per
breakdown returns a few hundred rows each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, column, func, select, text, tuple_, values
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
    count = (
        _citizens_per_key_in_sql
        if session.get_bind().dialect.name == "postgresql"
        else _citizens_per_key_in_python
    )

    def within(query: Select[Any]) -> Select[Any]:
        return created_within(query, created_at, since, until)

    found: dict[str, dict[Hashable, int]] = {}
    for name, (grouping, keys) in groupings.items():
        columns = grouping if isinstance(grouping, tuple) else (grouping,)
        found[name] = dict(count(session, columns, keys, within, who).most_common())
    return found


def _values_with_keys(
    session: Session,
    columns: tuple[ColumnElement[Any], ...],
    keys: Callable[[Any], Iterable[Hashable]],
    within: Callable[[Select[Any]], Select[Any]],
) -> list[tuple[Any, ...]]:
    """(each column's value..., key) for every different value in the range and its keys."""
    query = within(select(*columns).distinct())
    rows: list[tuple[Any, ...]] = []
    for row in session.execute(query):
        value = tuple(row) if len(columns) > 1 else row[0]
        rows.extend((*row, key) for key in keys(value))
    return rows


def _citizens_per_key_in_sql(
    session: Session,
    columns: tuple[ColumnElement[Any], ...],
    keys: Callable[[Any], Iterable[Hashable]],
    within: Callable[[Select[Any]], Select[Any]],
    who: ColumnElement[Any],
) -> Counter[Hashable]:
    folded = _values_with_keys(session, columns, keys, within)
    if not folded:
        return Counter()
    names = [f"v{index}" for index in range(len(columns))]
    fold = values(
        *[column(name, source.type) for name, source in zip(names, columns, strict=True)],
        column("key", String),
        name="fold",
    ).data([(*row[:-1], str(row[-1])) for row in folded])
    by_key = {str(row[-1]): row[-1] for row in folded}
    matches = [
        # A NULL value (no language, no district) matches only with IS NOT DISTINCT FROM,
        # which cannot be hashed: used only for a column that has one.
        source.is_not_distinct_from(fold.c[name])
        if any(row[index] is None for row in folded)
        else source == fold.c[name]
        for index, (name, source) in enumerate(zip(names, columns, strict=True))
    ]
    pairs = within(select(fold.c.key, who).select_from(fold).where(*matches).distinct()).subquery()
    counted = select(pairs.c.key, func.count()).group_by(pairs.c.key)
    return Counter({by_key[key]: int(count) for key, count in session.execute(counted)})


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
