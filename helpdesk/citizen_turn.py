"""The gateway's question on every message: is a person handling this citizen? Then the bot is silent.

`desk_turn` stores the message for the help desk before anything is answered (so nothing is
lost between the bot and the person) and returns what the citizen is told: nothing while a
person holds the chat, their place in the queue while they wait, or None when no hand-over
is open and the message goes to the assistant as usual.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.database import session_scope
from core.replies import Button, Reply
from helpdesk.desk import add_citizen_message, leave, open_chat_for, queue_position
from helpdesk.models import HandoverChat
from helpdesk.one_writer import one_writer
from helpdesk.open_chats import has_open_chat
from helpdesk.texts import desk_text

# The button under the queue reply: the citizen leaves the queue and the bot answers again.
LEAVE_PAYLOAD = "/leave_helpdesk"


def desk_turn(database_url: str | None, sender_id: str, text: str) -> list[Reply] | None:
    """What the desk answers for this message, or None when the assistant should answer it."""
    if text != LEAVE_PAYLOAD and not has_open_chat(database_url, sender_id):
        return None  # the common case, one index lookup (helpdesk/open_chats.py)
    with one_writer(database_url), session_scope(database_url) as session:
        if text == LEAVE_PAYLOAD:
            return _leave(session, sender_id)
        chat = open_chat_for(session, sender_id)
        if chat is None:
            return None
        # Reads first, the write last: SQLite's one write lock is held only for the write.
        position = queue_position(session, chat.id) if chat.status == "waiting" else 0
        add_citizen_message(session, chat.id, sender_id, text)
        if chat.status == "held":
            return []  # a person answers; the bot says nothing
        return [
            Reply(
                text=desk_text("waiting_ack", chat.language, position=position),
                buttons=[leave_button(chat.language)],
                language=chat.language,
            )
        ]


def is_handed_over(database_url: str | None, sender_id: str) -> bool:
    """Whether a hand-over is open for this citizen (the web chat then long-polls)."""
    return has_open_chat(database_url, sender_id)


def leave_button(language: str) -> Button:
    return Button(title=desk_text("button_back", language), payload=LEAVE_PAYLOAD)


def _leave(session: Session, sender_id: str) -> list[Reply] | None:
    left = leave(session, sender_id)
    language = left.language if left is not None else _last_language(session, sender_id)
    if language is None:
        return None  # never asked for a person: the assistant reads the button as it can
    return [Reply(text=desk_text("left_queue", language), language=language)]


def _last_language(session: Session, sender_id: str) -> str | None:
    return session.scalars(
        select(HandoverChat.language)
        .where(HandoverChat.sender_id == sender_id)
        .order_by(HandoverChat.id.desc())
        .limit(1)
    ).first()
