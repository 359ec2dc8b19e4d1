"""The conversation before a hand-over, read from Rasa's tracker store (table `events`).

The action server gets only the current turn's events (nlu/action_calls.py), but the staff
need the last turns for context, and the bot offers a person when the previous turn failed
too; both read the turns stored before this one. Rasa stores a turn when it ends, so the
rows here are the earlier turns."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from citizens.conversation_events import RASA_TRACKER_TABLE

MAX_EVENTS = 200


def stored_events(
    session: Session, sender_id: str, limit: int = MAX_EVENTS
) -> list[dict[str, Any]]:
    """The citizen's last stored events, oldest first, as Rasa serialises them."""
    if not inspect(session.get_bind()).has_table(RASA_TRACKER_TABLE):
        return []
    rows = session.execute(
        text(
            f"SELECT data FROM {RASA_TRACKER_TABLE} WHERE sender_id = :sender "
            "ORDER BY id DESC LIMIT :limit"
        ),
        {"sender": sender_id, "limit": limit},
    ).scalars()
    events = []
    for data in rows:
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            continue
        if isinstance(event, dict):
            events.append(event)
    return events[::-1]
