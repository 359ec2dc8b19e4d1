"""Hand-over chats and messages in "my data", and erased by "forget me" (citizens/registry.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from citizens.registry import CitizenData
from helpdesk import open_index
from helpdesk.desk import changed_rows
from helpdesk.models import HandoverChat, HandoverMessage


def _export(session: Session, sender_id: str) -> dict[str, Any]:
    chats = session.scalars(
        select(HandoverChat).where(HandoverChat.sender_id == sender_id).order_by(HandoverChat.id)
    ).all()
    messages = session.scalars(
        select(HandoverMessage)
        .where(HandoverMessage.sender_id == sender_id)
        .order_by(HandoverMessage.id)
    ).all()
    return {
        "helpdesk_chats": [
            {"status": chat.status, "started": chat.created_at.isoformat()} for chat in chats
        ],
        "helpdesk_messages": [
            {"from": message.author, "text": message.text} for message in messages
        ],
    }


def _erase(session: Session, sender_id: str) -> int:
    still_open = session.scalar(
        select(func.count())
        .select_from(HandoverChat)
        .where(HandoverChat.sender_id == sender_id, HandoverChat.status != "ended")
    )
    open_index.closing(session, sender_id, int(still_open or 0))  # once the erase commits
    messages = session.execute(
        delete(HandoverMessage).where(HandoverMessage.sender_id == sender_id)
    )
    chats = session.execute(delete(HandoverChat).where(HandoverChat.sender_id == sender_id))
    return changed_rows(messages) + changed_rows(chats)


CITIZEN_DATA = [CitizenData("helpdesk", ("helpdesk_chats", "helpdesk_messages"), _export, _erase)]
