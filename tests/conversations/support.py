"""Reading a conversation's replies and the database behind it, for the conversation tests."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from sqlalchemy import create_engine, inspect, text

import citizens
import knowledge
from actions.messages import say
from core.database import session_scope

_WEEKEND_DAYS = re.compile(r"\b(Sa|Sat|Saturday|Su|Sun|Sunday)\b")
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def new_sender(channel: str = "web") -> str:
    return f"{channel}:{uuid.uuid4().hex[:12]}"


def texts(replies: list) -> str:
    return "\n".join(reply.text for reply in replies)


def cards(replies: list) -> list:
    return [card for reply in replies for card in reply.cards]


def buttons(replies: list) -> list:
    return [button for reply in replies for button in reply.buttons]


def payload_with(replies: list, fragment: str) -> str:
    """The payload of the button whose payload contains `fragment` (fails if none does)."""
    found = [button.payload for button in buttons(replies) if fragment in button.payload]
    assert found, f"no button with {fragment!r} in {[b.payload for b in buttons(replies)]}"
    return found[0]


def languages(replies: list) -> set[str | None]:
    return {reply.language for reply in replies}


def catalog_text(message_id: str, language: str, **values: Any) -> str:
    """What the message catalog says, to compare with what the citizen saw."""
    return say(message_id, language, **values)


def on_weekend(schedule: str) -> bool:
    """A card's schedule names Saturday or Sunday, or its date falls on one."""
    if _WEEKEND_DAYS.search(schedule):
        return True
    return any(date.fromisoformat(day).weekday() >= 5 for day in _ISO_DATE.findall(schedule))


def shown_items(database_url: str, replies: list) -> list[knowledge.CatalogItem]:
    """The catalog items behind the cards shown, to check what the cards do not say (district,
    audience, times)."""
    with session_scope(database_url) as session:
        found = [knowledge.get_item(session, card.id) for card in cards(replies)]
    missing = [card.id for card, item in zip(cards(replies), found, strict=True) if item is None]
    assert not missing, f"cards for items not in the catalog: {missing}"
    return [item for item in found if item is not None]


def exported(database_url: str, sender_id: str) -> dict[str, Any]:
    with session_scope(database_url) as session:
        return citizens.export_citizen_data(session, sender_id)


def rows_about(database_url: str, sender_id: str) -> dict[str, int]:
    """Rows naming this sender in every table that has a sender column (Rasa's too)."""
    engine = create_engine(database_url)
    counts: dict[str, int] = {}
    try:
        inspector = inspect(engine)
        with engine.connect() as connection:
            for table in inspector.get_table_names():
                columns = {column["name"] for column in inspector.get_columns(table)}
                for column in columns & {"sender_id", "sender", "recipient", "recipient_id"}:
                    count = connection.execute(
                        text(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = :sender'),
                        {"sender": sender_id},
                    ).scalar_one()
                    counts[f"{table}.{column}"] = int(count)
    finally:
        engine.dispose()
    return counts
