"""Totals of the conversations Rasa keeps (its `events` table), for planners: counts only.

Planners compare unmet demand against how much the assistant was used: how many conversations
(Rasa sessions) started, how many citizens started them, when in the day, and how many
searches ran. A Rasa session ends after 60 idle minutes (nlu/domain/dialogue.yml), so every
citizen who wrote in a range started a session in it (or in the hour before). Each count reads
only session starts or search actions, through the index nlu/tracker_indexes.py adds: with a
million events, user messages (half the table) are never read. No sender id, text or event
ever leaves this module.
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

    citizens: int = 0  # different senders who started a conversation
    conversations: int = 0  # Rasa sessions started
    searches: int = 0  # runs of the search actions named by the caller
    conversations_by_hour: dict[str, int] = field(default_factory=dict)  # "00".."23", city time
    searches_by_week: dict[str, int] = field(default_factory=dict)  # ISO weeks, oldest first


def conversation_totals(
    session: Session,
    since: datetime,
    until: datetime,
    search_actions: Sequence[str],
    utc_offset: timedelta = timedelta(0),
    *,
    with_citizens: bool = True,
) -> ConversationTotals:
    """The totals for events in [since, until); hours and days shifted by `utc_offset` (the
    city's). Zero everywhere when Rasa has not created its table yet. Without
    `with_citizens`, `citizens` stays 0 (a caller adding days counts it over the range)."""
    if not inspect(session.get_bind()).has_table(RASA_TRACKER_TABLE):
        return ConversationTotals()
    window = {"since": since.timestamp(), "until": until.timestamp()}
    in_window = "timestamp >= :since AND timestamp < :until"
    # Day and hour as whole numbers of the shifted epoch: the same SQL on SQLite and PostgreSQL.
    offset = int(utc_offset.total_seconds())
    day = _whole(session, f"(timestamp + {offset}) / {_DAY_SECONDS}")
    hour = _whole(session, f"(timestamp + {offset}) / 3600") + " % 24"
    started = "type_name = 'session_started'"
    totals = ConversationTotals()
    by_hour: Counter[str] = Counter()
    for hour_number, count in session.execute(
        text(
            f"SELECT {hour}, COUNT(*) FROM {RASA_TRACKER_TABLE} "
            f"WHERE {started} AND {in_window} GROUP BY 1"
        ),
        window,
    ):
        by_hour[f"{int(hour_number):02d}"] += count
        totals.conversations += count
    totals.conversations_by_hour = dict(sorted(by_hour.items()))
    if with_citizens:
        totals.citizens = conversation_citizens(session, since, until)
    actions = {f"action_{i}": name for i, name in enumerate(search_actions)}
    if actions:
        named = ", ".join(f":{key}" for key in actions)
        by_week: Counter[str] = Counter()
        for day_number, count in session.execute(
            text(
                f"SELECT {day}, COUNT(*) FROM {RASA_TRACKER_TABLE} WHERE type_name = 'action' "
                f"AND action_name IN ({named}) AND {in_window} GROUP BY 1"
            ),
            window | actions,
        ):
            by_week[iso_week(_day(int(day_number)))] += count
            totals.searches += count
        totals.searches_by_week = dict(sorted(by_week.items()))
    return totals


def conversation_citizens(session: Session, since: datetime, until: datetime) -> int:
    """Different senders who started a conversation in [since, until): not a sum of days'
    counts (one citizen on two days is one citizen), so always counted from the events, in
    one index-only scan of the session starts."""
    if not inspect(session.get_bind()).has_table(RASA_TRACKER_TABLE):
        return 0
    return int(
        session.execute(
            # DISTINCT in a subquery is hashed; COUNT(DISTINCT ...) sorts (81 ms, not 194 ms).
            text(
                f"SELECT COUNT(*) FROM (SELECT DISTINCT sender_id FROM {RASA_TRACKER_TABLE} "
                "WHERE type_name = 'session_started' AND timestamp >= :since "
                "AND timestamp < :until) AS senders"
            ),
            {"since": since.timestamp(), "until": until.timestamp()},
        ).scalar_one()
    )


def _whole(session: Session, expression: str) -> str:
    """SQL rounding `expression` down to a whole number (CAST truncates on SQLite only)."""
    if session.get_bind().dialect.name == "postgresql":
        return f"CAST(FLOOR({expression}) AS BIGINT)"
    return f"CAST({expression} AS INTEGER)"


def _day(day_number: int) -> date:
    """The calendar day of a (shifted) epoch day number."""
    return date(1970, 1, 1) + timedelta(days=day_number)
