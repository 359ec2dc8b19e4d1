"""The conversation before a hand-over, read from Rasa's tracker store (table `events`).

The action server gets only the current turn's events (nlu/action_calls.py), but the staff
need the last turns for context, and the bot offers a person when the previous turn failed
too; both read the turns stored before this one. Rasa stores a turn when it ends (after its
actions ran), so the rows here are the earlier turns and never repeat the current one.

The fallback reads this on every turn it answers, so it reads newest first and stops at the
user turns it needs: with `user_turns=1` (the previous turn, all the "failed twice" offer
asks) about 0.3 ms of CPU instead of 3 ms for parsing the last 200 events (SQLite, load ~20).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from citizens.conversation_events import RASA_TRACKER_TABLE

MAX_EVENTS = 200
_NEWEST_FIRST = text(
    f"SELECT data FROM {RASA_TRACKER_TABLE} WHERE sender_id = :sender ORDER BY id DESC LIMIT :limit"
)


def stored_events(
    session: Session, sender_id: str, limit: int = MAX_EVENTS, user_turns: int | None = None
) -> list[dict[str, Any]]:
    """The citizen's last stored events, oldest first, as Rasa serialises them; with
    `user_turns`, only the last that many turns (each from its user message on)."""
    try:
        with session.begin_nested():
            rows = session.execute(_NEWEST_FIRST, {"sender": sender_id, "limit": limit})
            events = _newest_turns(rows.scalars().all(), user_turns)
    except DBAPIError:
        if inspect(session.get_bind()).has_table(RASA_TRACKER_TABLE):
            raise
        return []  # Rasa has not run on this database yet: no earlier turns
    return events[::-1]


def _newest_turns(rows: Any, user_turns: int | None) -> list[dict[str, Any]]:
    """Parse rows newest first, stopping after the `user_turns`-th user message."""
    events: list[dict[str, Any]] = []
    users = 0
    for data in rows:
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            continue
        if not isinstance(event, dict):
            continue
        events.append(event)
        if event.get("event") == "user":
            users += 1
            if user_turns is not None and users >= user_turns:
                break
    return events
