"""The one registry of what learncity keeps about a citizen: "my data" and "forget me" in one call.

Every module that stores something about a citizen lists it in a module-level `CITIZEN_DATA`
(a list of `CitizenData`: its tables, how to show them, how to erase them), and names that
module in `PROVIDERS` below. `export_citizen_data` and `erase_citizen` walk all of them, so a
new table cannot be left out of either without `tests/citizens/test_registry.py` failing:
that test finds every table with a citizen column and asks which entry claims it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

# Modules holding a `CITIZEN_DATA` list, imported when first needed (no import cycles).
PROVIDERS = (
    # First: the planner's kept day counts must see the citizen's days before they are erased.
    "staff.rollups",
    "citizens.records",
    "citizens.conversation_events",
    "bot.broadcast_records",
    "bot.web_outbox",
    "helpdesk.citizen_data",
    "knowledge.citizen_data",
)

# Columns that name a citizen (a sender id, or the web chat's session id).
CITIZEN_COLUMNS = ("sender_id", "session_id")


class ErasureIncompleteError(RuntimeError):
    """Something about the citizen could not be erased: never report "forgotten" then."""


@dataclass(frozen=True)
class CitizenData:
    """One kind of data kept about a citizen, the tables it lives in, and how to show and erase it.

    `export(session, sender_id)` returns keys to merge into "my data"; `erase` returns how many
    rows went. `conversation` marks Rasa's own store, which the gateway erases only once Rasa
    has stored the "forget me" turn (else Rasa would write the conversation back).
    """

    name: str
    tables: tuple[str, ...]
    export: Callable[[Session, str], dict[str, Any]]
    erase: Callable[[Session, str], int]
    conversation: bool = False


def registered() -> list[CitizenData]:
    """Every registered kind of citizen data, in `PROVIDERS` order."""
    kinds: list[CitizenData] = []
    for module_name in PROVIDERS:
        kinds.extend(importlib.import_module(module_name).CITIZEN_DATA)
    return kinds


def export_citizen_data(session: Session, sender_id: str) -> dict[str, Any]:
    """Everything stored about one citizen, for "my data"."""
    data: dict[str, Any] = {"sender_id": sender_id}
    for kind in registered():
        data.update(kind.export(session, sender_id))
    return data


def erase_citizen(
    session: Session, sender_id: str, *, include_conversation: bool = True
) -> dict[str, int]:
    """Erase everything about one citizen in the caller's transaction; rows erased per kind.

    Any database error propagates (the caller's transaction rolls back and nothing claims
    success); call it inside `session_scope` so the erasure commits as one unit.
    """
    erased: dict[str, int] = {}
    for kind in registered():
        if kind.conversation and not include_conversation:
            continue
        erased[kind.name] = kind.erase(session, sender_id)
    session.flush()
    return erased


def remaining_rows(session: Session, sender_id: str) -> dict[str, int]:
    """Rows still naming the citizen in any registered table (all zero after erasure)."""
    from sqlalchemy import inspect, text

    inspector = inspect(session.get_bind())
    tables = set(inspector.get_table_names())
    left: dict[str, int] = {}
    for kind in registered():
        for table in kind.tables:
            if table not in tables:
                continue
            columns = {column["name"] for column in inspector.get_columns(table)}
            for column in columns & set(CITIZEN_COLUMNS):
                value = _column_value(column, sender_id)
                if value is None:
                    continue
                count = session.execute(
                    text(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = :value'),
                    {"value": value},
                ).scalar_one()
                if count:
                    left[f"{table}.{column}"] = int(count)
    return left


def _column_value(column: str, sender_id: str) -> str | None:
    """What a citizen column holds for this sender: the web chat keys its outbox by session."""
    if column == "session_id":
        return sender_id.removeprefix("web:") if sender_id.startswith("web:") else None
    return sender_id
