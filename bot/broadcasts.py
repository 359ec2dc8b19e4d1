"""Organizers' announcements to subscribed citizens, on every channel, exactly once per citizen.

`broadcast()` finds the subscribers whose topic and district match, picks each citizen's
language, and pushes the text through that citizen's channel at a bounded rate. Each
delivery is written down as `sending` right before its send (after the rate-limit wait) and
as `delivered`, `unreachable` or `failed` right after, so a re-run sends to nobody twice
and misses nobody: `failed` (the platform never got it) is retried.

Some outcomes cannot be known: the process was killed during a send (the row still says
`sending`), or the platform did not answer in time (Telegram may have shown the message).
Those become `unknown`: counted and listed by citizen in the report, never resent and never
treated as delivered unless the operator says so (`resend_unknown`, `--resend-unknown`).
Measured with kill -9 three times during a broadcast to the Telegram stand-in
(tests/faults/test_broadcast_kills.py): no duplicates, no misses, each kill at most one
`unknown` per channel and chunk in flight (a worker sends BROADCAST_WORKER_CONCURRENCY chunks
at once, one message at a time each).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import httpx
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import citizens
from bot.broadcast_rate import InProcessRate, SendRate
from bot.broadcast_records import (
    DELIVERED,
    FAILED,
    SENDING,
    UNKNOWN,
    UNREACHABLE,
    erase_deliveries,
    export_deliveries,
)
from bot.channels.base import ChannelSender, PlatformBusyError, RecipientUnreachableError
from bot.messages import Reply
from bot.models import BroadcastDelivery

__all__ = [
    "DELIVERED",
    "FAILED",
    "SENDING",
    "UNKNOWN",
    "UNREACHABLE",
    "Announcement",
    "BroadcastReport",
    "Recipients",
    "broadcast",
    "erase_deliveries",
    "recipients_now",
    "send_chunk",
    "export_deliveries",
]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

# Messages per second per channel: Telegram allows ~30/s to different chats, WeChat's
# customer-service API is quota-bound; the web outbox is a database write.
DEFAULT_RATES = {"telegram": 30.0, "wechat": 10.0, "web": 100.0}
MAX_BUSY_RETRIES = 20  # 429s in a row for one citizen before their delivery counts as failed
FALLBACK_RATE = 10.0
FALLBACK_LANGUAGES = ("en", "zh")
INTERRUPTED = "interrupted during the send (the broadcast stopped); it may have arrived"
TIMED_OUT = "no answer from the platform in time; it may have arrived"

# Errors that prove the request never left (nothing can have been shown): safe to retry.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Errors after the request may have been read by the platform: the outcome is unknown.
_MAYBE_SENT = (TimeoutError, httpx.TimeoutException, httpx.ReadError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class Announcement:
    """What organizers announce: the text in one or more languages, and who it is for."""

    texts: dict[str, str]  # language code -> text
    topic: str | None = None
    district: str | None = None
    event_id: str | None = None  # the catalog event it is about: part of what it says
    given_key: str | None = None  # its key when given (`--event-id`, or the one it was stored by)

    def __post_init__(self) -> None:
        if not any(text.strip() for text in self.texts.values()):
            raise ValueError("an announcement needs a text in at least one language")

    @property
    def key(self) -> str:
        """The announcement's own identity in the delivery ledger (each citizen gets it once):
        the key given, else a hash of everything it says (texts, topic, district and event).
        Not the event's id alone: a second, different notice about an event ("room changed")
        is a new announcement and reaches those the first one reached too."""
        if self.given_key:
            return self.given_key[:120]
        said: list[object] = [sorted(self.texts.items()), self.topic or "", self.district or ""]
        if self.event_id:  # without an event, the hash stays the one ledgers already hold
            said.append(self.event_id)
        content = json.dumps(said, ensure_ascii=False)
        return "text:" + hashlib.sha256(content.encode()).hexdigest()[:32]

    def text_for(self, language: str | None) -> tuple[str, str]:
        """(language, text) for a citizen: their language, else English, else Chinese, else any."""
        for candidate in (language, *FALLBACK_LANGUAGES, *self.texts):
            if candidate and self.texts.get(candidate, "").strip():
                return candidate, self.texts[candidate]
        raise AssertionError("unreachable: __post_init__ requires a text")


@dataclass
class BroadcastReport:
    """What happened, counted; failures and unknown outcomes name the citizen and the reason."""

    announcement_key: str
    dry_run: bool = False
    matched: int = 0
    delivered: int = 0
    unreachable: int = 0
    failed: int = 0  # never reached the platform; retried by the next run
    unknown: int = 0  # may or may not have arrived; see `unknowns`
    resent_unknown: int = 0  # unknown before, sent again because the operator asked
    already_sent: int = 0  # delivered (or unreachable) by an earlier run, skipped
    paused: int = 0  # times the platform said 429 and every sender waited
    would_send: int = 0  # dry run only
    by_channel: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    unknowns: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def broadcast(
    announcement: Announcement,
    senders: dict[str, ChannelSender],
    session: Session,
    *,
    dry_run: bool = False,
    resend_unknown: bool = False,
    rates: dict[str, float] | None = None,
) -> BroadcastReport:
    """Send an announcement to every matching subscriber; commits after each delivery record.

    Commits as it goes so a crash loses nothing and so channel senders that write to the
    same database (the web outbox) never wait on this session's lock.
    """
    started = time.monotonic()
    report = BroadcastReport(announcement.key, dry_run=dry_run)
    now = recipients_now(session, announcement, resend_unknown=resend_unknown)
    report.matched = len(now.matched)
    _settle(session, announcement.key, now, report, dry_run)
    report.by_channel = {channel: len(ids) for channel, ids in now.by_channel.items()}
    if dry_run:
        report.would_send = sum(report.by_channel.values())
        session.rollback()
        return report
    session.commit()
    rates = {**DEFAULT_RATES, **(rates or {})}
    limits: dict[str, SendRate] = {channel: InProcessRate(rate) for channel, rate in rates.items()}
    await _send_by_channel(announcement, senders, now.by_channel, session, report, limits)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info(
        "broadcast %s: matched %d, delivered %d, unreachable %d, failed %d, unknown %d, "
        "already sent %d",
        report.announcement_key,
        report.matched,
        report.delivered,
        report.unreachable,
        report.failed,
        report.unknown,
        report.already_sent,
    )
    return report


class _Database:
    """One session used from threads one call at a time: the channels of a broadcast send
    concurrently on one event loop, and a session is not safe for two threads at once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._lock = asyncio.Lock()

    async def run(self, work: Callable[..., _T], *args: Any) -> _T:
        async with self._lock:
            return await asyncio.to_thread(work, self.session, *args)


async def send_chunk(
    announcement: Announcement,
    senders: dict[str, ChannelSender],
    sender_ids: list[str],
    session: Session,
    rates: dict[str, SendRate],
    *,
    resend_unknown: bool = False,
) -> BroadcastReport:
    """Send to some of an announcement's recipients (a worker's chunk), through shared limiters.

    The ledger decides again for each citizen, so a chunk sent a second time (its first worker
    was killed) sends nobody anything twice: delivered ones are skipped, one left `sending`
    by the killed worker becomes `unknown` (unless `resend_unknown`)."""
    report = BroadcastReport(announcement.key)
    previous = _previous_outcomes(session, announcement.key, sender_ids)
    now = _by_ledger(sender_ids, previous, resend_unknown)
    _settle(session, announcement.key, now, report, dry_run=False)
    session.commit()
    await _send_by_channel(announcement, senders, now.by_channel, session, report, rates)
    return report


@dataclass
class Recipients:
    """Who an announcement goes to if it is sent now, by the ledger's once-per-citizen rule."""

    matched: list[str]  # every subscriber its topic and district match
    by_channel: dict[str, list[str]]  # those it is sent to now, by channel
    already_sent: list[str]  # delivered (or unreachable) by an earlier send of it
    unknown: list[tuple[str, str, str]]  # (citizen, state, reason): may have it, not resent


def recipients_now(
    session: Session, announcement: Announcement, *, resend_unknown: bool = False
) -> Recipients:
    """The matching subscribers, sorted by what the ledger holds for this announcement (read
    only: the console's preview counts these, `broadcast` sends to them)."""
    matched = citizens.subscribers_for(
        session, topic=announcement.topic, district=announcement.district
    )
    previous = _previous_outcomes(session, announcement.key)
    return _by_ledger(matched, previous, resend_unknown)


def _by_ledger(
    sender_ids: list[str], previous: dict[str, tuple[str, str]], resend_unknown: bool
) -> Recipients:
    """`sender_ids` sorted by their earlier outcome: unknown ones (unless `resend_unknown`) and
    delivered or unreachable ones are set aside, failed and new ones are sent to."""
    now = Recipients(matched=list(sender_ids), by_channel={}, already_sent=[], unknown=[])
    by_channel: dict[str, list[str]] = defaultdict(list)
    for sender_id in sender_ids:
        status, reason = previous.get(sender_id, (None, ""))
        if status in (SENDING, UNKNOWN) and not resend_unknown:
            now.unknown.append((sender_id, status, reason))
        elif status in (DELIVERED, UNREACHABLE):
            now.already_sent.append(sender_id)
        else:
            by_channel[_channel_of(sender_id)].append(sender_id)
    now.by_channel = dict(sorted(by_channel.items()))
    return now


def _settle(
    session: Session, key: str, now: Recipients, report: BroadcastReport, dry_run: bool
) -> None:
    """Count those already reached, and report (and settle) earlier unknown outcomes."""
    report.already_sent += len(now.already_sent)
    for sender_id, status, reason in now.unknown:
        _settle_unknown(session, key, sender_id, status, reason, report, dry_run)


async def _send_by_channel(
    announcement: Announcement,
    senders: dict[str, ChannelSender],
    by_channel: dict[str, list[str]],
    session: Session,
    report: BroadcastReport,
    rates: dict[str, SendRate],
) -> None:
    """Every channel's recipients at once, each channel at its own rate."""
    database = _Database(session)
    await asyncio.gather(
        *(
            _send_on_channel(
                announcement,
                senders.get(channel),
                channel,
                ids,
                database,
                report,
                rates.get(channel) or InProcessRate(FALLBACK_RATE),
            )
            for channel, ids in by_channel.items()
        )
    )


async def _send_on_channel(
    announcement: Announcement,
    channel_sender: ChannelSender | None,
    channel: str,
    sender_ids: list[str],
    database: _Database,
    report: BroadcastReport,
    rate: SendRate,
) -> None:
    """One channel's recipients, one message at a time, each after its rate-limit slot."""
    for sender_id in sender_ids:
        if channel_sender is None:
            reason = f"channel {channel} is not configured (see docs/operators.md)"
            await database.run(_record, announcement.key, sender_id, FAILED, reason)
            report.failed += 1
            report.failures.append({"sender_id": sender_id, "reason": reason})
            continue
        for _ in range(MAX_BUSY_RETRIES):
            if not await _deliver(announcement, channel_sender, sender_id, database, report, rate):
                break


async def _deliver(
    announcement: Announcement,
    channel_sender: ChannelSender,
    sender_id: str,
    database: _Database,
    report: BroadcastReport,
    rate: SendRate,
) -> bool:
    """Send to one citizen after waiting for a slot; True when the platform said "not now"
    (429: every sender pauses, and this citizen is tried again)."""
    channel = _channel_of(sender_id)
    # The database calls run in a thread: a worker sends several chunks at once on one event
    # loop, and a blocking round trip would hold all of them (measured: 13 messages/s per
    # worker process with them on the loop, under load).
    language, text = await database.run(_text_for, announcement, sender_id)
    await rate.wait_turn()
    # Claimed right before the send: a kill before this line leaves no trace (the next
    # run sends it); a kill after it leaves `sending`, which the next run reports unknown.
    claimed = await database.run(_claim, announcement.key, sender_id, channel)
    if claimed is None:
        report.already_sent += 1  # another broadcaster got there first
        return False
    recipient_id = sender_id.split(":", 1)[1]
    try:
        await channel_sender.send(recipient_id, [Reply(text=text, language=language)])
    except PlatformBusyError as busy:
        # Nothing was shown: `failed` until tried again, after the whole bot paused.
        await database.run(_record, announcement.key, sender_id, FAILED, str(busy))
        logger.warning("broadcast %s: %s; every sender pauses", announcement.key, busy)
        report.paused += 1
        await rate.pause(busy.retry_after)
        return True
    except RecipientUnreachableError as error:
        await database.run(_mark_unreachable, sender_id)
        await database.run(_record, announcement.key, sender_id, UNREACHABLE, str(error))
        report.unreachable += 1
        return False
    except Exception as error:  # any platform failure: count it, keep going
        reason = f"{type(error).__name__}: {error}"[:400]
        if _maybe_sent(error):
            logger.warning(
                "broadcast %s to a %s citizen: outcome unknown (%s)",
                announcement.key,
                channel,
                type(error).__name__,
            )
            await database.run(
                _record, announcement.key, sender_id, UNKNOWN, f"{TIMED_OUT} ({reason})"
            )
            report.unknown += 1
            report.unknowns.append({"sender_id": sender_id, "reason": TIMED_OUT})
            return False
        logger.warning("broadcast %s to a %s citizen failed: %r", announcement.key, channel, error)
        await database.run(_record, announcement.key, sender_id, FAILED, reason)
        report.failed += 1
        report.failures.append({"sender_id": sender_id, "reason": reason})
        return False
    await database.run(_record, announcement.key, sender_id, DELIVERED, "")
    report.delivered += 1
    if claimed in (SENDING, UNKNOWN):
        report.resent_unknown += 1
    return False


def _text_for(session: Session, announcement: Announcement, sender_id: str) -> tuple[str, str]:
    language = citizens.get_language(session, sender_id)
    session.commit()  # end the read before another connection writes
    return announcement.text_for(language)


def _mark_unreachable(session: Session, sender_id: str) -> None:
    citizens.mark_unreachable(session, sender_id)
    session.commit()


def _maybe_sent(error: BaseException) -> bool:
    """True when the platform may have received the request (a timeout, a dropped answer).

    Follows the exception's causes, so a channel library's wrapper (python-telegram-bot's
    `TimedOut` raised from httpx's `ReadTimeout`) is judged by what really happened.
    """
    seen: BaseException | None = error
    chain = []
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(isinstance(item, _NOT_SENT) for item in chain):
        return False
    if any(isinstance(item, _MAYBE_SENT) for item in chain):
        return True
    return any(type(item).__name__ == "TimedOut" for item in chain)  # telegram.error.TimedOut


def _settle_unknown(
    session: Session,
    key: str,
    sender_id: str,
    status: str,
    reason: str,
    report: BroadcastReport,
    dry_run: bool,
) -> None:
    """An earlier run's unknown outcome: report it, send nothing; `sending` becomes `unknown`."""
    if status == SENDING:
        reason = INTERRUPTED
        if not dry_run:
            _record(session, key, sender_id, UNKNOWN, reason)
    shown = TIMED_OUT if reason.startswith(TIMED_OUT) else INTERRUPTED
    report.unknown += 1
    report.unknowns.append({"sender_id": sender_id, "reason": shown})


def _previous_outcomes(
    session: Session, key: str, sender_ids: list[str] | None = None
) -> dict[str, tuple[str, str]]:
    query = select(
        BroadcastDelivery.sender_id, BroadcastDelivery.status, BroadcastDelivery.reason
    ).where(BroadcastDelivery.announcement_key == key)
    if sender_ids is not None:
        query = query.where(BroadcastDelivery.sender_id.in_(sender_ids))
    rows = session.execute(query).all()
    return {sender_id: (status, reason or "") for sender_id, status, reason in rows}


def _claim(session: Session, key: str, sender_id: str, channel: str) -> str | None:
    """Mark a delivery `sending` right before its send; returns the state it had ("" if new),
    or None when it was not ours to send (another broadcaster claimed or delivered it)."""
    try:  # most recipients have no row yet: one insert, one commit
        session.execute(
            insert(BroadcastDelivery).values(
                announcement_key=key, sender_id=sender_id, channel=channel, status=SENDING
            )
        )
        session.commit()
        return ""
    except IntegrityError:
        session.rollback()
    row = session.scalar(
        select(BroadcastDelivery.status).where(
            BroadcastDelivery.announcement_key == key, BroadcastDelivery.sender_id == sender_id
        )
    )
    if row not in (FAILED, SENDING, UNKNOWN):
        session.rollback()
        return None
    # Compare-and-set, so two broadcasters re-trying the same failed delivery send it once.
    changed = session.execute(
        update(BroadcastDelivery)
        .where(
            BroadcastDelivery.announcement_key == key,
            BroadcastDelivery.sender_id == sender_id,
            BroadcastDelivery.status == row,
        )
        .values(status=SENDING, reason="")
    ).rowcount
    session.commit()
    return row if changed else None


def _record(session: Session, key: str, sender_id: str, status: str, reason: str) -> None:
    """Write a delivery's outcome. On PostgreSQL without waiting for the disk: if the database
    itself crashed before writing it, the row stays `sending` and is reported unknown, never
    sent twice (the claim before the send is always durable)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    changed = session.execute(
        update(BroadcastDelivery)
        .where(BroadcastDelivery.announcement_key == key, BroadcastDelivery.sender_id == sender_id)
        .values(status=status, reason=reason[:500])
    ).rowcount
    if not changed:  # never claimed (its channel is not configured)
        session.execute(
            insert(BroadcastDelivery).values(
                announcement_key=key,
                sender_id=sender_id,
                channel=_channel_of(sender_id),
                status=status,
                reason=reason[:500],
            )
        )
    session.commit()


def _channel_of(sender_id: str) -> str:
    """Sender ids are namespaced `channel:id`."""
    return sender_id.split(":", 1)[0] if ":" in sender_id else "unknown"
