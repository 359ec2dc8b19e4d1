"""The web chat's outbox: replies pushed outside a conversation turn, waiting for the page to poll.

Broadcasts run in their own process (`learncity broadcast`), so the outbox lives in the
database the gateway also reads. It is bounded: each session keeps its newest
`MAX_PER_SESSION` messages, and nothing older than `MAX_AGE` is kept at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.messages import Reply
from bot.models import WebOutboxMessage
from citizens.registry import CitizenData

MAX_PER_SESSION = 50
MAX_AGE = timedelta(days=14)


@dataclass(frozen=True)
class OutboxUpdate:
    """One waiting reply and its cursor (the page asks for updates after the last cursor)."""

    id: int
    reply: dict[str, Any]


def put_replies(session: Session, session_id: str, replies: list[Reply]) -> list[int]:
    """Queue replies for one web session; returns their cursors. Old and surplus ones go."""
    rows = [
        WebOutboxMessage(
            session_id=session_id, reply=json.dumps(reply.as_dict(), ensure_ascii=False)
        )
        for reply in replies
    ]
    session.add_all(rows)
    session.flush()
    _prune(session, session_id)
    return [row.id for row in rows]


def updates_after(
    session: Session, session_id: str, after: int = 0, limit: int = MAX_PER_SESSION
) -> list[OutboxUpdate]:
    """Replies for a session newer than the cursor `after`, oldest first."""
    cutoff = datetime.now(UTC) - MAX_AGE
    rows = session.scalars(
        select(WebOutboxMessage)
        .where(
            WebOutboxMessage.session_id == session_id,
            WebOutboxMessage.id > after,
            WebOutboxMessage.created_at >= cutoff,
        )
        .order_by(WebOutboxMessage.id)
        .limit(limit)
    ).all()
    return [OutboxUpdate(row.id, json.loads(row.reply)) for row in rows]


def erase_session(session: Session, session_id: str) -> int:
    """Forget everything waiting for one session (after `forget me`)."""
    return (
        session.execute(
            delete(WebOutboxMessage).where(WebOutboxMessage.session_id == session_id)
        ).rowcount
        or 0
    )


def _export_waiting(session: Session, sender_id: str) -> dict[str, Any]:
    """Replies waiting for a web chat page, for "my data" (other channels keep none)."""
    if not sender_id.startswith("web:"):
        return {"web_outbox": []}
    rows = session.scalars(
        select(WebOutboxMessage)
        .where(WebOutboxMessage.session_id == sender_id.removeprefix("web:"))
        .order_by(WebOutboxMessage.id)
    ).all()
    return {"web_outbox": [json.loads(row.reply).get("text", "") for row in rows]}


def _erase_waiting(session: Session, sender_id: str) -> int:
    return (
        erase_session(session, sender_id.removeprefix("web:"))
        if sender_id.startswith("web:")
        else 0
    )


# The outbox is keyed by the web chat's session id: the sender id `web:<session id>`.
CITIZEN_DATA = [CitizenData("web_outbox", ("web_outbox",), _export_waiting, _erase_waiting)]


def _prune(session: Session, session_id: str) -> None:
    session.execute(
        delete(WebOutboxMessage).where(WebOutboxMessage.created_at < datetime.now(UTC) - MAX_AGE)
    )
    keep = select(WebOutboxMessage.id).where(WebOutboxMessage.session_id == session_id)
    newest = session.scalars(keep.order_by(WebOutboxMessage.id.desc()).limit(MAX_PER_SESSION)).all()
    if len(newest) == MAX_PER_SESSION:
        session.execute(
            delete(WebOutboxMessage).where(
                WebOutboxMessage.session_id == session_id, WebOutboxMessage.id < newest[-1]
            )
        )
