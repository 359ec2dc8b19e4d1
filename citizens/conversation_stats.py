"""Totals of the conversations Rasa keeps (its `events` table), for planners: counts only.

Planners compare unmet demand against how much the assistant was used: how many citizens
wrote, how many conversations (Rasa sessions) they had, how many searches ran, and when in
the day citizens write. Each is one aggregate query over the date range; no sender id, text
or event ever leaves this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from citizens.conversation_events import RASA_TRACKER_TABLE
from core.grouped_counts import iso_week

_DAY_SECONDS = 86_400


@dataclass
class ConversationTotals:
    """How much the assistant was used in a date range."""

    citizens: int = 0  # different senders who wrote at least once
    conversations: int = 0  # Rasa sessions started
    messages: int = 0  # messages citizens wrote
    searches: int = 0  # runs of the search actions named by the caller
    messages_by_hour: dict[str, int] = field(default_factory=dict)  # "00".."23", city time
    searches_by_week: dict[str, int] = field(default_factory=dict)  # ISO weeks, oldest first


def conversation_totals(
    session: Session,
    since: datetime,
    until: datetime,
    search_actions: Sequence[str],
    utc_offset: timedelta = timedelta(0),
) -> ConversationTotals:
    """The totals for events in [since, until); hours of the day shifted by `utc_offset` (the
    city's). Zero everywhere when Rasa has not created its table yet."""
    if not inspect(session.get_bind()).has_table(RASA_TRACKER_TABLE):
        return ConversationTotals()
    window = {"since": since.timestamp(), "until": until.timestamp()}
    actions = {f"action_{i}": name for i, name in enumerate(search_actions)}
    searched = ", ".join(f":{key}" for key in actions) or "NULL"
    # Day and hour as whole numbers of the shifted epoch: the same SQL on SQLite and PostgreSQL.
    offset = int(utc_offset.total_seconds())
    day = _whole(session, f"(timestamp + {offset}) / {_DAY_SECONDS}")
    hour = _whole(session, f"(timestamp + {offset}) / 3600") + " % 24"
    rows = session.execute(
        text(
            f"SELECT {day} AS day, {hour} AS hour, type_name, COUNT(*) FROM {RASA_TRACKER_TABLE} "
            "WHERE timestamp >= :since AND timestamp < :until AND (type_name = 'user' "
            f"OR type_name = 'session_started' OR (type_name = 'action' AND action_name IN ({searched}))) "
            "GROUP BY 1, 2, 3"
        ),
        window | actions,
    ).all()
    totals = ConversationTotals()
    by_hour: Counter[str] = Counter()
    by_week: Counter[str] = Counter()
    for day_number, hour_number, kind, count in rows:
        if kind == "user":
            totals.messages += count
            by_hour[f"{int(hour_number):02d}"] += count
        elif kind == "session_started":
            totals.conversations += count
        else:
            totals.searches += count
            by_week[iso_week(_day(int(day_number)))] += count
    totals.messages_by_hour = dict(sorted(by_hour.items()))
    totals.searches_by_week = dict(sorted(by_week.items()))
    totals.citizens = int(
        session.execute(
            text(
                f"SELECT COUNT(DISTINCT sender_id) FROM {RASA_TRACKER_TABLE} WHERE type_name = 'user' "
                "AND timestamp >= :since AND timestamp < :until"
            ),
            window,
        ).scalar_one()
    )
    return totals


def _whole(session: Session, expression: str) -> str:
    """SQL rounding `expression` down to a whole number (CAST truncates on SQLite only)."""
    if session.get_bind().dialect.name == "postgresql":
        return f"CAST(FLOOR({expression}) AS BIGINT)"
    return f"CAST({expression} AS INTEGER)"


def _day(day_number: int) -> date:
    """The calendar day of a (shifted) epoch day number."""
    return date(1970, 1, 1) + timedelta(days=day_number)
