"""Whether a hand-over is open for a citizen: the gateway asks on every turn, so "no" is cheap.

Every citizen's turn asks this before the assistant answers, and almost always the answer is
no. It is one lookup in the partial unique index `uq_helpdesk_open_chat` (which holds only
the open chats) on a pooled connection: no ORM session, no objects, no commit. The database
is the one truth every gateway replica reads, so a chat queued by the action server or
claimed in another replica's console silences the bot on the very next turn.

With `REDIS_URL` set the "no" comes from Redis instead (one HMGET, helpdesk/open_index.py),
and only a citizen Redis counts at the desk is looked up in the database.
"""

from __future__ import annotations

from sqlalchemy import bindparam, literal, select

from core.database import get_engine
from helpdesk import open_index
from helpdesk.models import HandoverChat

# The partial index's own condition (status != 'ended'), so the index alone answers it.
_OPEN_CHAT = (
    select(literal(1))
    .where(HandoverChat.sender_id == bindparam("sender"), HandoverChat.status != "ended")
    .limit(1)
)


def has_open_chat(database_url: str | None, sender_id: str) -> bool:
    """Whether the citizen waits in the queue or a person holds their chat."""
    if open_index.counted(database_url, sender_id) is False:
        return False  # with REDIS_URL: Redis never misses an open chat (helpdesk/open_index.py)
    with get_engine(database_url).connect() as connection:
        return connection.execute(_OPEN_CHAT, {"sender": sender_id}).first() is not None
