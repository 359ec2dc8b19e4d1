"""The index learncity adds to Rasa's `events` table, so planners' totals stay fast.

Rasa creates the table (with an index on sender_id only). The staff console counts
conversations (session starts), the citizens who started them and the searches that ran in a
date range (citizens.conversation_stats); with 1 million events each count scanned the whole
table. This index holds every column those counts read, in the order they filter, so
PostgreSQL and SQLite answer from the index alone. Created by our tracker store when Rasa
starts (nlu/tracker_store.py); no dependency here, as both Python environments import it.
"""

from __future__ import annotations

from typing import Any

EVENTS_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS ix_events_kind_time "
    "ON events (type_name, action_name, timestamp, sender_id)"
)


def ensure_events_index(connection: Any) -> None:
    """Create the index if it is missing (`connection`: a SQLAlchemy 1.4 or 2.0 connection)."""
    from sqlalchemy import text

    connection.execute(text(EVENTS_INDEX_SQL))
