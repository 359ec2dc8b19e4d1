"""Staff answers on their way to the citizen: stored first, then sent, then marked delivered.

The console sends a chat's waiting answers in the order they were written and marks each
one delivered (or why not), so an answer is never lost between the console and the
channel, and never sent twice. A web chat's "send" is a row in its outbox, so there the
answer, its outbox row and its mark are one transaction (`claim_delivery`). WeChat lets an Official Account write to a follower only
within 48 hours of the follower's last message (customer-service messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from helpdesk.desk import MAX_TEXT, ChatSummary, DeskError, changed_rows, end, visible_chat
from helpdesk.models import HandoverChat, HandoverMessage
from helpdesk.texts import desk_text

WECHAT_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class OutgoingAnswer:
    id: int
    chat_id: int
    sender_id: str
    channel: str
    language: str
    text: str

    @property
    def recipient_id(self) -> str:
        """The id on the citizen's own channel (the sender id without its channel prefix)."""
        return self.sender_id.split(":", 1)[1] if ":" in self.sender_id else self.sender_id


def add_staff_answer(session: Session, chat_id: int, staff_name: str, text: str) -> int:
    """Store an answer to a chat the member of staff holds; DeskError when they do not."""
    text = text.strip()
    if not text:
        raise DeskError("write an answer first", "empty")
    chat = visible_chat(session, chat_id, staff_name)
    if chat.status != "held":
        raise DeskError("claim the chat before answering", "claim_first")
    if chat.channel == "wechat" and datetime.now(UTC) - chat.last_citizen_at > WECHAT_WINDOW:
        raise DeskError(
            "WeChat lets us write only within 48 hours of the citizen's last message; "
            "wait until they write again",
            "wechat_window",
        )
    message = HandoverMessage(
        chat_id=chat_id,
        sender_id=chat.sender_id,
        author="staff",
        staff_name=staff_name,
        text=text[:MAX_TEXT],
        created_at=datetime.now(UTC),
    )
    session.add(message)
    session.flush()
    return message.id


def add_desk_notice(session: Session, chat_id: int, text: str) -> int:
    """Store what the desk itself tells the citizen (the bot is back), sent like an answer."""
    chat = session.get(HandoverChat, chat_id)
    if chat is None:
        raise DeskError(f"no chat {chat_id}", "no_chat", id=chat_id)
    message = HandoverMessage(
        chat_id=chat_id,
        sender_id=chat.sender_id,
        author="desk",
        text=text[:MAX_TEXT],
        created_at=datetime.now(UTC),
    )
    session.add(message)
    session.flush()
    return message.id


def undelivered(session: Session, chat_id: int) -> list[OutgoingAnswer]:
    """The chat's answers not yet delivered nor given up on, oldest first."""
    rows = session.execute(
        select(HandoverMessage, HandoverChat.channel, HandoverChat.language)
        .join(HandoverChat, HandoverChat.id == HandoverMessage.chat_id)
        .where(
            HandoverMessage.chat_id == chat_id,
            HandoverMessage.author != "citizen",
            HandoverMessage.delivered_at.is_(None),
            HandoverMessage.delivery_error.is_(None),
        )
        .order_by(HandoverMessage.id)
    ).all()
    return [
        OutgoingAnswer(message.id, chat_id, message.sender_id, channel, language, message.text)
        for message, channel, language in rows
    ]


def mark_delivered(session: Session, message_id: int) -> None:
    session.execute(
        update(HandoverMessage)
        .where(HandoverMessage.id == message_id)
        .values(delivered_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )


def lock_chat(session: Session, chat_id: int) -> None:
    """Hold the chat's row until the transaction ends (PostgreSQL; SQLite has one writer
    anyway), so two transactions delivering one chat's answers commit them in order."""
    session.execute(select(HandoverChat.id).where(HandoverChat.id == chat_id).with_for_update())


def claim_delivery(session: Session, message_id: int) -> bool:
    """Mark one answer delivered unless it already is (or was given up on); True for the one
    caller that then delivers it in the same transaction (the web chat's outbox)."""
    result = session.execute(
        update(HandoverMessage)
        .where(
            HandoverMessage.id == message_id,
            HandoverMessage.delivered_at.is_(None),
            HandoverMessage.delivery_error.is_(None),
        )
        .values(delivered_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result) > 0


def mark_failed(session: Session, message_id: int, reason: str) -> None:
    """Give up on one answer (the citizen blocked the bot, the channel is off); the console shows why."""
    session.execute(
        update(HandoverMessage)
        .where(HandoverMessage.id == message_id)
        .values(delivery_error=reason[:200])
        .execution_options(synchronize_session=False)
    )


def hand_back(session: Session, chat_id: int, staff_name: str) -> ChatSummary | None:
    """End a held chat and store the "bot is back" notice in the citizen's language, in one
    transaction, so a citizen is never given back to the bot without being told. None when
    the chat is not held by `staff_name`; send the notice afterwards like any answer."""
    ended = end(session, chat_id, staff_name)
    if ended is not None:
        add_desk_notice(session, chat_id, desk_text("resumed", ended.language))
    return ended
