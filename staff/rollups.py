"""The planner dashboard's counts kept per day, so a first view reads a few rows per day
instead of counting a million conversation events again (issue 12: render in 1 s).

One row per (source, UTC day) holds that day's counts as JSON: what the dashboard's summary
functions return for that one day (`needs`, `unmet`, `conversations`). Those counts are plain
sums of rows, so a range's counts are the sum of its days' counts, exactly. Counts of
different citizens are not sums of days (one citizen on two days is one citizen), so they are
never kept here: the dashboard counts them from the raw rows (bot/admin/rollup_counts.py).

A day is written once it has ended (bot/admin/rollup_counts.py decides when); the rows of
a past day only change when a citizen asks to be forgotten. Then `forget_citizen_days`,
which "forget me" runs first (citizens.registry.PROVIDERS), deletes the rows of every day
on which that citizen left a need, an unmet search or a conversation event (a day's unmet
questions are the citizens' own words, so they must go too) and records the erasure: kept
counts made before it, in any gateway sharing this database, are no longer used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, Text, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

import citizens
from citizens.registry import CitizenData
from core.database import Base


class PlannerDayRecord(Base):
    """One source's counts for one UTC day, made with the city's UTC offset of that time."""

    __tablename__ = "planner_days"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    utc_offset: Mapped[int] = mapped_column(Integer)  # seconds; hours of the day are the city's
    counts: Mapped[str] = mapped_column(Text)  # JSON
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlannerErasureRecord(Base):
    """One "forget me": kept dashboard counts older than the latest one are counted again."""

    __tablename__ = "planner_erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def kept_days(
    session: Session, source: str, first: date, last: date, utc_offset: int
) -> dict[date, dict[str, Any]]:
    """The kept counts of `source` for the days first..last made with this UTC offset (a
    change of offset, e.g. summer time, makes the days count again)."""
    rows = session.execute(
        select(PlannerDayRecord.day, PlannerDayRecord.counts).where(
            PlannerDayRecord.source == source,
            PlannerDayRecord.day >= first,
            PlannerDayRecord.day <= last,
            PlannerDayRecord.utc_offset == utc_offset,
        )
    )
    return {day: json.loads(counts) for day, counts in rows}


def keep_day(
    session: Session, source: str, day: date, utc_offset: int, counts: dict[str, Any]
) -> bool:
    """Keep one day's counts (replacing any made with another offset); False when another
    request kept that day at the same time (its counts are the same)."""
    session.execute(
        delete(PlannerDayRecord).where(
            PlannerDayRecord.source == source, PlannerDayRecord.day == day
        )
    )
    session.add(
        PlannerDayRecord(
            source=source,
            day=day,
            utc_offset=utc_offset,
            counts=json.dumps(counts, ensure_ascii=False),
            counted_at=datetime.now(UTC),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def erasure_generation(session: Session) -> int:
    """How many citizens were forgotten so far (kept counts say which number they saw)."""
    return int(
        session.execute(select(func.coalesce(func.max(PlannerErasureRecord.id), 0))).scalar_one()
    )


def forget_days(session: Session, days: Iterable[date]) -> int:
    """Drop every source's kept counts of these days and record an erasure; rows dropped."""
    wanted = sorted(set(days))
    dropped = 0
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        dropped += session.query(PlannerDayRecord).filter(PlannerDayRecord.day.in_(chunk)).delete()
    session.add(PlannerErasureRecord(erased_at=datetime.now(UTC)))
    session.flush()
    return dropped


def forget_citizen_days(session: Session, sender_id: str) -> int:
    """For "forget me", before the citizen's rows go: drop the kept counts of every day the
    citizen left a learning need, an unmet search or a conversation event on, and the kept
    meanings of the citizen's unmet questions (staff/meanings.py)."""
    from staff.meanings import forget_citizen_meanings

    forget_citizen_meanings(session, sender_id)
    return forget_days(session, _citizen_days(session, sender_id))


def _citizen_days(session: Session, sender_id: str) -> set[date]:
    """The UTC days of the citizen's rows in the tables the dashboard counts, read through
    their owners' public functions (each table indexes sender_id)."""
    import knowledge

    times = citizens.learning_need_times(session, sender_id)
    times += [at for _, at in knowledge.unmet_searches_of(session, sender_id)]
    days = {_as_utc_day(moment) for moment in times if moment is not None}
    return days | citizens.conversation_event_days(session, sender_id)


def _as_utc_day(value: Any) -> date:
    """The UTC day of a stored time (SQLite hands back a naive time, kept as UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _nothing_kept_about_one_citizen(session: Session, sender_id: str) -> dict[str, Any]:
    return {}  # day counts name nobody; the days' unmet questions are erased with the days


# Registered first in citizens.registry.PROVIDERS: it must see the citizen's rows before the
# other kinds delete them.
CITIZEN_DATA = [
    CitizenData(
        "planner_days", ("planner_days",), _nothing_kept_about_one_citizen, forget_citizen_days
    )
]
