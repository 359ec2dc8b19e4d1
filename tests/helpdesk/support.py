"""Shared helpers for the help-desk tests: a citizen who asked for a person, read back from the database."""

from __future__ import annotations

from datetime import UTC, datetime

import helpdesk
from bot.web_outbox import updates_after
from core.database import session_scope

# Office hours that are always open, so a test does not depend on the clock.
ALWAYS_OPEN = "mon-sun 00:00-24:00"


def ask_for_person(
    database_url: str,
    sender_id: str,
    *,
    language: str = "en",
    context: list[dict[str, str]] | None = None,
    now: datetime | None = None,
) -> helpdesk.Ticket:
    """What action_request_human does for a citizen, straight on the database."""
    with session_scope(database_url) as session:
        return helpdesk.request_person(
            session,
            sender_id,
            channel=sender_id.split(":", 1)[0],
            language=language,
            context=context or [],
            now=now or datetime.now(UTC),
        )


def web_outbox_texts(database_url: str, sender_id: str) -> list[str]:
    """What waits for a web chat page (the citizen's channel for `web:` senders)."""
    with session_scope(database_url) as session:
        waiting = updates_after(session, sender_id.removeprefix("web:"))
    return [update.reply["text"] for update in waiting]


def chat_lines_of(database_url: str, chat_id: int) -> list[tuple[str, str, bool]]:
    with session_scope(database_url) as session:
        return [
            (line.author, line.text, line.delivered)
            for line in helpdesk.chat_lines(session, chat_id)
        ]
