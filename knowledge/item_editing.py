"""What a catalog editor changes besides an item's fields: its schedule sessions, and removing
the item. Sessions are written as the plain CSV format writes one (days, times, dates; see
docs/catalog-formats.md) and checked by the same parser, so the console and an import accept
the same things. The caller commits and then brings the search index up to date
(`ensure_index_from_database`), as after `edit_item`."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import delete
from sqlalchemy.orm import Session as DbSession

from knowledge.catalog import get_item, upsert_items
from knowledge.catalog_import import ItemEditRejected, ItemNotFound
from knowledge.documents import CatalogItem, Session
from knowledge.importers.common import Rejection
from knowledge.importers.plain_csv import sessions_from_row
from knowledge.importers.reasons import reason
from knowledge.importers.rejections import RowProblems
from knowledge.models import CatalogRecord

# One session's fields, as the plain CSV format names its columns.
SESSION_FIELDS = (
    "days", "start_time", "end_time", "schedule_text", "start_date", "end_date",
    "month_days", "except_dates",
)  # fmt: skip


def session_values(item: CatalogItem) -> list[dict[str, str]]:
    """Each session of the item as the form (and a CSV row) writes it. A schedule text that
    the days and times would make anyway is left empty, so changing the days changes it too
    (else citizens would read the old days)."""
    rows = []
    for one in item.sessions:
        row = _written(one)
        fields: dict[str, str | None] = {name: value or None for name, value in row.items()}
        made = sessions_from_row(fields | {"schedule_text": None}, RowProblems())
        if made and made[0].schedule_text == one.schedule_text:
            row["schedule_text"] = ""
        rows.append(row)
    return rows


def edit_item_sessions(session: DbSession, item_id: str, rows: list[dict[str, str]]) -> CatalogItem:
    """Replace the item's sessions with `rows` (a row with every field empty is dropped).
    Raises ItemNotFound, or ItemEditRejected naming each bad field as "session 2: days"."""
    current = get_item(session, item_id)
    if current is None:
        raise ItemNotFound(item_id)
    sessions: list[Session] = []
    rejections: list[Rejection] = []
    for number, row in enumerate(rows, 1):
        if not any((row.get(name) or "").strip() for name in SESSION_FIELDS):
            continue
        problems = RowProblems()
        found = sessions_from_row(
            {name: (row.get(name) or "").strip() or None for name in SESSION_FIELDS}, problems
        )
        if not found and not problems.errors:
            problems.add("days", reason("says_nothing_about_when"), expected=reason("expect_when"))
        rejections += [
            Rejection(
                "(console)",
                current.id,
                f"session {number}: {error.field}",
                error.message,
                value=error.value,
                expected=error.expected,
            )
            for error in problems.errors
        ]
        sessions.extend(found)
    if rejections:
        raise ItemEditRejected(rejections)
    edited = replace(current, sessions=tuple(sessions))
    upsert_items(session, [edited], current.source)
    session.flush()
    return edited


def remove_item(session: DbSession, item_id: str) -> CatalogItem:
    """Delete one item from the catalog (a later import of its source file brings it back);
    returns what was removed. Raises ItemNotFound."""
    current = get_item(session, item_id)
    if current is None:
        raise ItemNotFound(item_id)
    session.execute(delete(CatalogRecord).where(CatalogRecord.id == item_id))
    session.flush()
    return current


_SHORT_DAYS = {
    "monday": "Mo", "tuesday": "Tu", "wednesday": "We", "thursday": "Th",
    "friday": "Fr", "saturday": "Sa", "sunday": "Su",
}  # fmt: skip


def _written(one: Session) -> dict[str, str]:
    """A session as the CSV columns write it: days "Tu | Th", monthly "1Sa | 3Sa"."""
    if one.weeks_of_month:
        days = [f"{week}{_SHORT_DAYS[day]}" for week in one.weeks_of_month for day in one.days]
    else:
        days = [_SHORT_DAYS.get(day, day) for day in one.days]
    return {
        "days": " | ".join(days),
        "start_time": one.start_time or "",
        "end_time": one.end_time or "",
        "schedule_text": one.schedule_text,
        "start_date": one.start_date or "",
        "end_date": one.end_date or "",
        "month_days": " | ".join(str(day) for day in one.month_days),
        "except_dates": " | ".join(one.except_dates),
    }
