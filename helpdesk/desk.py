"""The queue and the chats: a citizen asks for a person, staff claim, transfer and end.

Every change of hands is one conditional UPDATE (`... WHERE status = 'waiting'`), so two
members of staff clicking "claim" at once cannot both get the chat, on SQLite and on
PostgreSQL alike; the state lives in the database, so a claimed chat survives a restart of
the gateway. Staff see a chat only while it waits in the queue or when they hold it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk import open_index
from helpdesk.models import HandoverChat, HandoverMessage
from helpdesk.office_hours import OfficeHours
from helpdesk.settings_store import current_office_hours, desk_time_zone
from staff import get_staff

MAX_CONTEXT_TURNS = 8
MAX_TEXT = 4000
HELPDESK_ROLES = ("helpdesk", "admin")


class DeskError(ValueError):
    """A staff request the desk cannot do. The message says why in English (logs, tests); the
    `code` and its `values` let the console say it in the staff member's own language."""

    def __init__(self, message: str, code: str = "", **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Ticket:
    """What a citizen who asked for a person is told: their place, and whether anyone answers now."""

    chat_id: int
    position: int
    open_now: bool
    hours: OfficeHours
    already_waiting: bool


@dataclass(frozen=True)
class ChatLine:
    id: int
    author: str  # citizen | staff
    staff_name: str | None
    text: str
    at: datetime
    delivered: bool
    delivery_error: str | None


@dataclass(frozen=True)
class ChatSummary:
    id: int
    sender_id: str
    channel: str
    language: str
    status: str
    reason: str
    claimed_by: str | None
    created_at: datetime
    last_citizen_at: datetime
    context: list[dict[str, str]]

    @property
    def recipient_id(self) -> str:
        """The id on the citizen's own channel (the sender id without its channel prefix)."""
        return self.sender_id.split(":", 1)[1] if ":" in self.sender_id else self.sender_id

    def waiting_seconds(self, now: datetime | None = None) -> int:
        return max(0, int(((now or _now()) - self.created_at).total_seconds()))

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "language": self.language,
            "status": self.status,
            "reason": self.reason,
            "claimed_by": self.claimed_by,
            "waiting_seconds": self.waiting_seconds(now),
            "context": self.context,
        }


def request_person(
    session: Session,
    sender_id: str,
    *,
    channel: str,
    language: str,
    reason: str = "asked",
    context: list[dict[str, str]] | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Queue the citizen (once: asking again keeps their place) and say where they stand."""
    now = now or _now()
    hours = current_office_hours(session)
    open_now = hours.is_open(now, desk_time_zone())
    existing = _open_chat(session, sender_id)
    if existing is None:
        chat = HandoverChat(
            sender_id=sender_id,
            channel=channel[:16],
            language=language[:8],
            status="waiting",
            reason=reason[:64],
            context=json.dumps((context or [])[-MAX_CONTEXT_TURNS:], ensure_ascii=False),
            created_at=now,
            last_citizen_at=now,
        )
        # Counted before anything is written: with Redis down this raises before the chat
        # takes the database's write lock, and nothing is stored (the caller's rollback would
        # also undo a chat written first, savepoint included, on SQLite as on PostgreSQL).
        open_index.opening(session, sender_id)
        try:
            with session.begin_nested():
                session.add(chat)
                session.flush()
        except IntegrityError:  # the same citizen asked twice at once: one chat stays
            open_index.closing(session, sender_id)  # this request's count goes again
            existing = _open_chat(session, sender_id)
            if existing is None:
                raise
        else:
            return Ticket(chat.id, queue_position(session, chat.id), open_now, hours, False)
    return Ticket(existing.id, queue_position(session, existing.id), open_now, hours, True)


def queue_position(session: Session, chat_id: int) -> int:
    """1 for the next chat a person will take; 0 when the chat is no longer waiting."""
    chat = session.get(HandoverChat, chat_id)
    if chat is None or chat.status != "waiting":
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(HandoverChat)
            .where(HandoverChat.status == "waiting", HandoverChat.id <= chat_id)
        )
        or 0
    )


def open_chat_for(session: Session, sender_id: str) -> ChatSummary | None:
    """The citizen's waiting or held chat, if any (the gateway asks this on every message)."""
    chat = _open_chat(session, sender_id)
    return _summary(chat) if chat is not None else None


def waiting_chats(session: Session) -> list[ChatSummary]:
    """The queue, oldest first: every member of the help desk may see and claim these."""
    rows = session.scalars(
        select(HandoverChat).where(HandoverChat.status == "waiting").order_by(HandoverChat.id)
    )
    return [_summary(chat) for chat in rows]


def chats_held_by(session: Session, staff_name: str) -> list[ChatSummary]:
    rows = session.scalars(
        select(HandoverChat)
        .where(HandoverChat.status == "held", HandoverChat.claimed_by == staff_name)
        .order_by(HandoverChat.claimed_at, HandoverChat.id)
    )
    return [_summary(chat) for chat in rows]


def visible_chat(session: Session, chat_id: int, staff_name: str) -> ChatSummary:
    """The chat, if this member of staff may see it (waiting, or held by them); else DeskError."""
    chat = session.get(HandoverChat, chat_id)
    if chat is None or not (
        chat.status == "waiting" or (chat.status == "held" and chat.claimed_by == staff_name)
    ):
        raise DeskError(f"chat {chat_id} is not waiting and not yours", "not_yours", id=chat_id)
    return _summary(chat)


def chat_lines(session: Session, chat_id: int) -> list[ChatLine]:
    rows = session.scalars(
        select(HandoverMessage)
        .where(HandoverMessage.chat_id == chat_id)
        .order_by(HandoverMessage.id)
    )
    return [
        ChatLine(
            row.id,
            row.author,
            row.staff_name,
            row.text,
            _aware(row.created_at),
            row.delivered_at is not None,
            row.delivery_error,
        )
        for row in rows
    ]


def claim(session: Session, chat_id: int, staff_name: str, now: datetime | None = None) -> bool:
    """Take a waiting chat; False when someone else was faster (or it is no longer waiting)."""
    result = session.execute(
        update(HandoverChat)
        .where(HandoverChat.id == chat_id, HandoverChat.status == "waiting")
        .values(status="held", claimed_by=staff_name, claimed_at=now or _now())
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def transfer(session: Session, chat_id: int, staff_name: str, colleague: str) -> bool:
    """Hand a held chat to a colleague of the help desk; False when it is not held by `staff_name`."""
    if colleague == staff_name:
        raise DeskError("choose a colleague, not yourself", "yourself")
    account = get_staff(session, colleague)
    if account is None or account.role not in HELPDESK_ROLES:
        raise DeskError(
            f"{colleague!r} is not a member of the help desk", "not_desk", name=colleague
        )
    result = session.execute(
        update(HandoverChat)
        .where(
            HandoverChat.id == chat_id,
            HandoverChat.status == "held",
            HandoverChat.claimed_by == staff_name,
        )
        .values(claimed_by=colleague, claimed_at=_now())
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def end(session: Session, chat_id: int, staff_name: str) -> ChatSummary | None:
    """End a held chat: the bot answers the citizen again. None when it is not held by them."""
    result = session.execute(
        update(HandoverChat)
        .where(
            HandoverChat.id == chat_id,
            HandoverChat.status == "held",
            HandoverChat.claimed_by == staff_name,
        )
        .values(status="ended", ended_at=_now())
        .execution_options(synchronize_session=False)
    )
    if not _changed(result):
        return None
    chat = session.get(HandoverChat, chat_id)
    if chat is None:
        return None
    session.refresh(chat)
    open_index.closing(session, chat.sender_id)  # uncounted once the end commits
    return _summary(chat)


def leave(session: Session, sender_id: str) -> ChatSummary | None:
    """The citizen left the queue (or the held chat) themselves; None when nothing was open."""
    chat = _open_chat(session, sender_id)
    if chat is None:
        return None
    chat.status, chat.ended_at = "ended", _now()
    session.flush()
    open_index.closing(session, sender_id)
    return _summary(chat)


def add_citizen_message(session: Session, chat_id: int, sender_id: str, text: str) -> int:
    """Store what the citizen wrote to the desk (before the gateway acknowledges anything)."""
    now = _now()
    message = HandoverMessage(
        chat_id=chat_id,
        sender_id=sender_id,
        author="citizen",
        text=text[:MAX_TEXT],
        created_at=now,
    )
    session.add(message)
    session.execute(
        update(HandoverChat)
        .where(HandoverChat.id == chat_id)
        .values(last_citizen_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return message.id


def changed_rows(result: Any) -> int:
    """Rows an UPDATE or DELETE changed (a CursorResult's rowcount, which mypy cannot see)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _changed(result: Any) -> bool:
    return changed_rows(result) > 0


def _open_chat(session: Session, sender_id: str) -> HandoverChat | None:
    return session.scalars(
        select(HandoverChat)
        .where(HandoverChat.sender_id == sender_id, HandoverChat.status != "ended")
        .order_by(HandoverChat.id.desc())
        .limit(1)
    ).first()


def _summary(chat: HandoverChat) -> ChatSummary:
    try:
        context = json.loads(chat.context or "[]")
    except ValueError:
        context = []
    return ChatSummary(
        id=chat.id,
        sender_id=chat.sender_id,
        channel=chat.channel,
        language=chat.language,
        status=chat.status,
        reason=chat.reason,
        claimed_by=chat.claimed_by,
        created_at=_aware(chat.created_at),
        last_citizen_at=_aware(chat.last_citizen_at),
        context=context if isinstance(context, list) else [],
    )


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)
