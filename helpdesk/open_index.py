"""Open hand-overs in Redis (with `REDIS_URL`), so every replica's per-turn question skips the database.

One Redis hash, `<REDIS_KEY_PREFIX>helpdesk:open`: a field per citizen (their sender id) holding
how many chats they have open (1; briefly 2 when an end and a new request cross), and the
field `~built` once it was filled from the database. The database stays the truth; the hash
only has to make "no" safe:
- a chat is counted **before** the database transaction that opens it commits (and uncounted
  again if that transaction does not commit), and uncounted only **after** the one that ends
  it committed, so no chat the database holds open is ever missing from the hash;
- "counted" is confirmed by the database (the desk reads the chat anyway), so a count left by
  a crash or a Redis outage costs one indexed lookup for that citizen, never a wrong answer.
The hash is filled from the database (adding counts only) on the first question a process
asks and whenever `~built` is missing (Redis restarted empty). If Redis does not answer, the
question goes to the database (said in the log at most once per 30 s); opening a chat then
fails, because a chat Redis does not count could be answered by the bot.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field

import redis
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from core.database import session_scope
from core.settings import get_settings
from helpdesk.models import HandoverChat

logger = logging.getLogger(__name__)

BUILT = "~built"  # not a sender id: those are "<channel>:<id>"
_TIMEOUT_SECONDS = 0.5
_LOG_EVERY_SECONDS = 30.0
# Lower a count; a field that reaches 0 goes, so the hash holds only citizens at the desk.
_UNCOUNT = """
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return left
"""


class OpenIndexUnavailableError(RuntimeError):
    """Redis did not answer while a chat was being opened; the chat is not opened."""


@dataclass
class _Pending:
    """Counts this session's transaction changed or will change, settled when it ends."""

    redis_url: str
    key: str
    counted: list[str] = field(default_factory=list)  # undone unless the transaction commits
    uncount: list[tuple[str, int]] = field(default_factory=list)  # done once it commits


_built: set[tuple[str, str]] = set()  # (Redis URL, key) this process has filled
_last_logged = 0.0


def counted(database_url: str | None, sender_id: str) -> bool | None:
    """Whether Redis counts an open chat for the citizen; None without REDIS_URL or when
    Redis cannot say (not reachable), and the database must answer."""
    where = _where()
    if where is None:
        return None
    redis_url, key = where
    try:
        if (redis_url, key) not in _built:
            rebuild(database_url)
        built, count = _client(redis_url).hmget(key, [BUILT, sender_id])
        if built is None:  # Redis lost the hash (restarted empty): fill it again
            rebuild(database_url)
            return None
    except redis.RedisError as error:
        _log_outage(error)
        return None
    return count is not None and int(count) > 0


def opening(session: Session, sender_id: str) -> None:
    """Count the chat the session is opening for the citizen, before its transaction commits."""
    where = _where()
    if where is None:
        return
    try:
        _client(where[0]).hincrby(where[1], sender_id, 1)
    except redis.RedisError as error:
        _log_outage(error)
        raise OpenIndexUnavailableError(
            f"Redis did not answer, so the hand-over was not opened: {error}"
        ) from error
    _pending(session, where).counted.append(sender_id)


def closing(session: Session, sender_id: str, chats: int = 1) -> None:
    """Uncount `chats` chats of the citizen once the session's transaction has committed."""
    where = _where()
    if where is not None and chats > 0:
        _pending(session, where).uncount.append((sender_id, chats))


def rebuild(database_url: str | None) -> int:
    """Count every chat the database holds open (adding only: a concurrent end leaves at
    most a count the database then denies) and mark the hash built; returns how many."""
    where = _where()
    if where is None:
        return 0
    redis_url, key = where
    with session_scope(database_url) as session:
        senders = session.scalars(
            select(HandoverChat.sender_id).where(HandoverChat.status != "ended")
        ).all()
    pipeline = _client(redis_url).pipeline(transaction=False)
    for sender_id in senders:
        pipeline.hsetnx(key, sender_id, 1)
    pipeline.hset(key, BUILT, 1)
    pipeline.execute()
    _built.add((redis_url, key))
    return len(senders)


def _where() -> tuple[str, str] | None:
    settings = get_settings()
    if not settings.redis_url:
        return None
    return settings.redis_url, f"{settings.redis_key_prefix}helpdesk:open"


@functools.lru_cache(maxsize=4)
def _client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(
        redis_url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS
    )


def _pending(session: Session, where: tuple[str, str]) -> _Pending:
    pending = session.info.get("helpdesk_open_index")
    if pending is None:
        pending = session.info["helpdesk_open_index"] = _Pending(*where)
    return pending


def _uncount(pending: _Pending, changes: list[tuple[str, int]]) -> None:
    if not changes:
        return
    try:
        script = _client(pending.redis_url).register_script(_UNCOUNT)
        for sender_id, chats in changes:
            script(keys=[pending.key], args=[sender_id, chats])
    except redis.RedisError as error:  # the counts stay: the database denies them
        _log_outage(error)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy says "commit" for those too): not yet
    pending = session.info.pop("helpdesk_open_index", None)
    if pending is not None:
        _uncount(pending, pending.uncount)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit: what it counted is undone."""
    if transaction.parent is not None:
        return
    pending = session.info.pop("helpdesk_open_index", None)
    if pending is not None:
        _uncount(pending, [(sender_id, 1) for sender_id in pending.counted])


def _log_outage(error: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY_SECONDS:
        _last_logged = now
        logger.warning("the help desk's open chats in Redis are unavailable: %s", error)
