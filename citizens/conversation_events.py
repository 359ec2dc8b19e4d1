"""The conversation Rasa keeps about a citizen (its SQL tracker store's `events` table).

Rasa creates and writes that table itself (nlu/tracker_store.py); learncity only counts a
citizen's rows for "my data" and deletes them for "forget me". The gateway erases them once
Rasa has stored the "forget me" turn, else the turn being stored would write them back.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from citizens.registry import CitizenData

# Rasa's SQL tracker store keeps each conversation's events in this table.
RASA_TRACKER_TABLE = "events"
_DAY_SECONDS = 86_400
_EPOCH = date(1970, 1, 1)


def count_conversation_events(session: Session, sender_id: str) -> int:
    """How many events Rasa's tracker store keeps for this sender (0 if there is no store)."""
    if not inspect(session.get_bind()).has_table(RASA_TRACKER_TABLE):
        return 0
    return int(
        session.execute(
            text(f"SELECT COUNT(*) FROM {RASA_TRACKER_TABLE} WHERE sender_id = :sender"),
            {"sender": sender_id},
        ).scalar_one()
    )


def conversation_event_days(session: Session, sender_id: str) -> set[date]:
    """The UTC days on which Rasa stored an event of this sender's conversations (Rasa keeps
    each event's time as seconds since 1970; a table made without it has no days)."""
    inspector = inspect(session.get_bind())
    if not inspector.has_table(RASA_TRACKER_TABLE):
        return set()
    if "timestamp" not in {column["name"] for column in inspector.get_columns(RASA_TRACKER_TABLE)}:
        return set()
    found = session.execute(
        text(
            f"SELECT DISTINCT FLOOR(timestamp / {_DAY_SECONDS}) FROM {RASA_TRACKER_TABLE} "
            "WHERE sender_id = :sender AND timestamp IS NOT NULL"
        ),
        {"sender": sender_id},
    )
    return {_EPOCH + timedelta(days=int(day)) for (day,) in found}


def _export(session: Session, sender_id: str) -> dict[str, Any]:
    return {"conversation_events": count_conversation_events(session, sender_id)}


def _erase(session: Session, sender_id: str) -> int:
    if not inspect(session.get_bind()).has_table(RASA_TRACKER_TABLE):
        return 0
    return (
        session.execute(
            text(f"DELETE FROM {RASA_TRACKER_TABLE} WHERE sender_id = :sender"),
            {"sender": sender_id},
        ).rowcount
        or 0
    )


CITIZEN_DATA = [
    CitizenData(
        name=RASA_TRACKER_TABLE,
        tables=(RASA_TRACKER_TABLE,),
        export=_export,
        erase=_erase,
        conversation=True,
    )
]
