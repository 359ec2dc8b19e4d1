"""Organizers' announcements to subscribed citizens, on every channel, once per citizen.

`broadcast()` finds the subscribers whose topic and district match, picks each citizen's
language, and pushes the text through that citizen's channel at a bounded rate. Every
delivery is recorded under the announcement's key before it is sent, so a re-run (after a
crash, or by mistake) never reaches the same citizen twice; only failed deliveries retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import citizens
from bot.channels.registry import ChannelSender, RecipientUnreachableError
from bot.messages import Reply
from bot.models import BroadcastDelivery

logger = logging.getLogger(__name__)

# Messages per second per channel: Telegram allows ~30/s to different chats, WeChat's
# customer-service API is quota-bound; the web outbox is a database write.
DEFAULT_RATES = {"telegram": 25.0, "wechat": 10.0, "web": 100.0}
FALLBACK_RATE = 10.0
FALLBACK_LANGUAGES = ("en", "zh")
DELIVERED, UNREACHABLE, FAILED, SENDING = "delivered", "unreachable", "failed", "sending"


@dataclass(frozen=True)
class Announcement:
    """What organizers announce: the text in one or more languages, and who it is for."""

    texts: dict[str, str]  # language code -> text
    topic: str | None = None
    district: str | None = None
    event_id: str | None = None  # a catalog event id; also the idempotency key when given

    def __post_init__(self) -> None:
        if not any(text.strip() for text in self.texts.values()):
            raise ValueError("an announcement needs a text in at least one language")

    @property
    def key(self) -> str:
        """Same announcement, same key: the event id, or a hash of everything it says."""
        if self.event_id:
            return f"event:{self.event_id}"[:120]
        content = json.dumps(
            [sorted(self.texts.items()), self.topic or "", self.district or ""], ensure_ascii=False
        )
        return "text:" + hashlib.sha256(content.encode()).hexdigest()[:32]

    def text_for(self, language: str | None) -> tuple[str, str]:
        """(language, text) for a citizen: their language, else English, else Chinese, else any."""
        for candidate in (language, *FALLBACK_LANGUAGES, *self.texts):
            if candidate and self.texts.get(candidate, "").strip():
                return candidate, self.texts[candidate]
        raise AssertionError("unreachable: __post_init__ requires a text")


@dataclass
class BroadcastReport:
    """What happened, counted; failures name the citizen's channel and the reason."""

    announcement_key: str
    dry_run: bool = False
    matched: int = 0
    delivered: int = 0
    unreachable: int = 0
    failed: int = 0
    already_sent: int = 0  # recorded by an earlier run, skipped
    would_send: int = 0  # dry run only
    by_channel: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def broadcast(
    announcement: Announcement,
    senders: dict[str, ChannelSender],
    session: Session,
    *,
    dry_run: bool = False,
    rates: dict[str, float] | None = None,
) -> BroadcastReport:
    """Send an announcement to every matching subscriber; commits after each delivery record.

    Commits as it goes so a crash loses nothing and so channel senders that write to the
    same database (the web outbox) never wait on this session's lock.
    """
    started = time.monotonic()
    report = BroadcastReport(announcement.key, dry_run=dry_run)
    recipients = citizens.subscribers_for(
        session, topic=announcement.topic, district=announcement.district
    )
    report.matched = len(recipients)
    previous = _previous_outcomes(session, announcement.key)
    by_channel: dict[str, list[str]] = defaultdict(list)
    for sender_id in recipients:
        if previous.get(sender_id) not in (None, FAILED):
            report.already_sent += 1
            continue
        by_channel[_channel_of(sender_id)].append(sender_id)
    report.by_channel = {channel: len(ids) for channel, ids in sorted(by_channel.items())}
    if dry_run:
        report.would_send = sum(report.by_channel.values())
        session.rollback()
        return report
    session.commit()
    rates = {**DEFAULT_RATES, **(rates or {})}
    await asyncio.gather(
        *(
            _send_on_channel(
                announcement,
                senders.get(channel),
                channel,
                sender_ids,
                session,
                report,
                rates.get(channel, FALLBACK_RATE),
            )
            for channel, sender_ids in by_channel.items()
        )
    )
    report.seconds = round(time.monotonic() - started, 3)
    logger.info(
        "broadcast %s: matched %d, delivered %d, unreachable %d, failed %d, already sent %d",
        report.announcement_key,
        report.matched,
        report.delivered,
        report.unreachable,
        report.failed,
        report.already_sent,
    )
    return report


async def _send_on_channel(
    announcement: Announcement,
    channel_sender: ChannelSender | None,
    channel: str,
    sender_ids: list[str],
    session: Session,
    report: BroadcastReport,
    rate: float,
) -> None:
    """One channel's queue, one message at a time, no faster than `rate` per second."""
    interval = 1.0 / rate if rate > 0 else 0.0
    next_slot = time.monotonic()
    for sender_id in sender_ids:
        if channel_sender is None:
            reason = f"channel {channel} is not configured (see docs/operators.md)"
            _record(session, announcement.key, sender_id, FAILED, reason)
            report.failed += 1
            report.failures.append({"sender_id": sender_id, "reason": reason})
            continue
        if not _claim(session, announcement.key, sender_id, channel):
            report.already_sent += 1  # another broadcaster got there first
            continue
        delay = next_slot - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        next_slot = max(next_slot, time.monotonic()) + interval
        language, text = announcement.text_for(citizens.get_language(session, sender_id))
        session.commit()  # end the read before another connection writes
        recipient_id = sender_id.split(":", 1)[1]
        try:
            await channel_sender.send(recipient_id, [Reply(text=text, language=language)])
        except RecipientUnreachableError as error:
            citizens.mark_unreachable(session, sender_id)
            _record(session, announcement.key, sender_id, UNREACHABLE, str(error))
            report.unreachable += 1
            continue
        except Exception as error:  # any platform failure: count it, keep going
            logger.warning(
                "broadcast %s to a %s citizen failed: %r", announcement.key, channel, error
            )
            reason = f"{type(error).__name__}: {error}"[:500]
            _record(session, announcement.key, sender_id, FAILED, reason)
            report.failed += 1
            report.failures.append({"sender_id": sender_id, "reason": reason})
            continue
        _record(session, announcement.key, sender_id, DELIVERED, "")
        report.delivered += 1


def erase_deliveries(session: Session, sender_id: str) -> int:
    """Forget which announcements a citizen got (after `forget me`); returns how many rows."""
    return (
        session.execute(
            delete(BroadcastDelivery).where(BroadcastDelivery.sender_id == sender_id)
        ).rowcount
        or 0
    )


def _previous_outcomes(session: Session, key: str) -> dict[str, str]:
    rows = session.execute(
        select(BroadcastDelivery.sender_id, BroadcastDelivery.status).where(
            BroadcastDelivery.announcement_key == key
        )
    ).all()
    return {sender_id: status for sender_id, status in rows}


def _claim(session: Session, key: str, sender_id: str, channel: str) -> bool:
    """Mark a delivery as being sent before sending it; False if someone else already did."""
    row = session.scalar(
        select(BroadcastDelivery).where(
            BroadcastDelivery.announcement_key == key, BroadcastDelivery.sender_id == sender_id
        )
    )
    if row is not None:
        if row.status != FAILED:
            return False
        row.status, row.reason = SENDING, ""
    else:
        session.add(
            BroadcastDelivery(
                announcement_key=key, sender_id=sender_id, channel=channel, status=SENDING
            )
        )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _record(session: Session, key: str, sender_id: str, status: str, reason: str) -> None:
    row = session.scalar(
        select(BroadcastDelivery).where(
            BroadcastDelivery.announcement_key == key, BroadcastDelivery.sender_id == sender_id
        )
    )
    if row is None:
        row = BroadcastDelivery(
            announcement_key=key,
            sender_id=sender_id,
            channel=_channel_of(sender_id),
            status=status,
        )
        session.add(row)
    row.status, row.reason = status, reason[:500]
    session.commit()


def _channel_of(sender_id: str) -> str:
    """Sender ids are namespaced `channel:id`."""
    return sender_id.split(":", 1)[0] if ":" in sender_id else "unknown"
