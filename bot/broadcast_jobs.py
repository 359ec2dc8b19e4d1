"""Announcements waiting, sending and sent, and their chunks of recipients: the broadcast queue's
durable side, in the database.

The database is the source of truth, the queue (bot/broadcast_queue.py) only hands out work:
- `submit` stores an announcement with its "send at" time, so one scheduled for later survives
  a restart; resubmitting one that is not finished returns the same row.
- A worker that finds one due (`claim_due`, compare-and-set with a lease) plans it in one
  transaction (`plan`): earlier `sending` rows become `unknown`, earlier `failed` ones are
  retried, the rest is split into chunks of recipients.
- A chunk is sent by whoever claims it (`claim_chunk`, again compare-and-set with a lease that
  the sender renews); a worker killed with -9 stops renewing, and the chunk is claimed again once
  its lease has run out. Each citizen's delivery is still decided by the ledger
  (bot/broadcast_records.py), so a chunk sent twice sends nobody anything twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

import citizens
from bot.broadcast_records import DELIVERED, FAILED, SENDING, UNKNOWN, UNREACHABLE
from bot.broadcasts import INTERRUPTED, Announcement
from bot.models import BroadcastDelivery
from core.database import Base

# Announcement states: waiting for its time, being split into chunks, chunks out, all sent;
# or cancelled while it waited (never sent).
SCHEDULED, PLANNING, SENDING_CHUNKS, DONE = "scheduled", "planning", "sending", "done"
CANCELLED = "cancelled"
# Chunk states.
PENDING, RUNNING, FINISHED = "pending", "running", "done"
PLANNING_LEASE = timedelta(seconds=60)
_TERMINAL = (DELIVERED, UNREACHABLE, FAILED, UNKNOWN)


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back (written in UTC); PostgreSQL aware ones."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AnnouncementRow(Base):
    """One announcement as submitted (CLI or console), and where its sending stands."""

    __tablename__ = "broadcast_announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    announcement_key: Mapped[str] = mapped_column(String(120), index=True)
    texts: Mapped[str] = mapped_column(Text)  # JSON {language: text}
    topic: Mapped[str | None] = mapped_column(String(200), nullable=True)
    district: Mapped[str | None] = mapped_column(String(120), nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    resend_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    send_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    matched: Mapped[int] = mapped_column(Integer, default=0)
    already_sent: Mapped[int] = mapped_column(Integer, default=0)
    to_send: Mapped[int] = mapped_column(Integer, default=0)
    baseline: Mapped[str] = mapped_column(Text, default="{}")  # ledger counts before sending
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    planned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def announcement(self) -> Announcement:
        return Announcement(
            texts=json.loads(self.texts),
            topic=self.topic,
            district=self.district,
            event_id=self.event_id,
            given_key=self.announcement_key,  # the key it was planned by, whatever made it
        )


class ChunkRow(Base):
    """Some recipients of one announcement: the unit a worker claims and sends."""

    __tablename__ = "broadcast_chunks"
    __table_args__ = (UniqueConstraint("announcement_id", "position", name="uq_broadcast_chunk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("broadcast_announcements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    sender_ids: Mapped[str] = mapped_column(Text)  # JSON list
    status: Mapped[str] = mapped_column(String(16), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)


def submit(
    session: Session,
    announcement: Announcement,
    *,
    send_at: datetime | None = None,
    created_by: str = "",
    resend_unknown: bool = False,
) -> int:
    """Store an announcement to be sent at `send_at` (now when None); returns its id.

    The same announcement (same key) still waiting or sending is not stored twice."""
    unfinished = session.scalar(
        select(AnnouncementRow.id)
        .where(
            AnnouncementRow.announcement_key == announcement.key,
            AnnouncementRow.status.notin_((DONE, CANCELLED)),
        )
        .order_by(AnnouncementRow.id)
        .limit(1)
    )
    if unfinished is not None:
        return unfinished
    row = AnnouncementRow(
        announcement_key=announcement.key,
        texts=json.dumps(announcement.texts, ensure_ascii=False),
        topic=announcement.topic,
        district=announcement.district,
        event_id=announcement.event_id,
        resend_unknown=resend_unknown,
        created_by=created_by[:120],
        status=SCHEDULED,
        send_at=send_at or utc_now(),
    )
    session.add(row)
    session.commit()
    return row.id


def cancel(session: Session, announcement_id: int) -> bool:
    """Cancel an announcement no worker has taken yet; False when it has (or is no longer
    scheduled). A worker takes one only by changing `scheduled` to `planning` in one
    compare-and-set (`claim_due`), so once this commits none can, and if one took it first
    this changes nothing."""
    changed = session.execute(
        update(AnnouncementRow)
        .where(AnnouncementRow.id == announcement_id, AnnouncementRow.status == SCHEDULED)
        .values(status=CANCELLED, finished_at=utc_now())
    ).rowcount
    session.commit()
    return bool(changed)


def claim_due(session: Session, holder: str) -> AnnouncementRow | None:
    """The first announcement due for planning that this worker won (compare-and-set)."""
    now = utc_now()
    candidates = session.scalars(
        select(AnnouncementRow.id)
        .where(
            or_(
                (AnnouncementRow.status == SCHEDULED) & (AnnouncementRow.send_at <= now),
                (AnnouncementRow.status == PLANNING) & (AnnouncementRow.lease_until < now),
            )
        )
        .order_by(AnnouncementRow.send_at)
        .limit(5)
    ).all()
    for announcement_id in candidates:
        won = session.execute(
            update(AnnouncementRow)
            .where(
                AnnouncementRow.id == announcement_id,
                or_(
                    AnnouncementRow.status == SCHEDULED,
                    (AnnouncementRow.status == PLANNING) & (AnnouncementRow.lease_until < now),
                ),
            )
            .values(status=PLANNING, lease_until=now + PLANNING_LEASE, holder=holder)
        ).rowcount
        session.commit()
        if won:
            return session.get(AnnouncementRow, announcement_id, populate_existing=True)
    return None


def plan(session: Session, row: AnnouncementRow, holder: str, chunk_size: int) -> list[int]:
    """Split a claimed announcement into chunks, in one transaction; returns the ids of the
    chunks to queue. A planner that died after its commit but before `dispatched` left its
    chunks: the next one queues those again (the ledger makes a chunk sent twice harmless)."""
    existing = session.scalars(
        select(ChunkRow.id).where(ChunkRow.announcement_id == row.id, ChunkRow.status != FINISHED)
    ).all()
    if row.planned_at is not None:
        return list(existing)
    key = row.announcement_key
    recipients = citizens.subscribers_for(session, topic=row.topic, district=row.district)
    outcomes = dict(
        session.execute(
            select(BroadcastDelivery.sender_id, BroadcastDelivery.status).where(
                BroadcastDelivery.announcement_key == key
            )
        ).all()
    )
    retried = {FAILED, UNKNOWN, SENDING} if row.resend_unknown else {FAILED}
    # Rows whose send is retried are forgotten (nothing of theirs was shown, or the operator
    # asked); an interrupted send nobody asked to retry is reported unknown, never resent.
    forget = [sender for sender in recipients if outcomes.get(sender) in retried]
    for start in range(0, len(forget), 500):
        session.execute(
            delete(BroadcastDelivery).where(
                BroadcastDelivery.announcement_key == key,
                BroadcastDelivery.sender_id.in_(forget[start : start + 500]),
            )
        )
    session.execute(
        update(BroadcastDelivery)
        .where(BroadcastDelivery.announcement_key == key, BroadcastDelivery.status == SENDING)
        .values(status=UNKNOWN, reason=INTERRUPTED)
    )
    for sender in forget:
        outcomes.pop(sender, None)
    to_send = [sender for sender in recipients if sender not in outcomes]
    chunks = [
        ChunkRow(
            announcement_id=row.id,
            position=index,
            sender_ids=json.dumps(to_send[start : start + chunk_size]),
            status=PENDING,
        )
        for index, start in enumerate(range(0, len(to_send), max(1, chunk_size)))
    ]
    session.add_all(chunks)
    baseline = ledger_counts(session, key)
    now = utc_now()
    changed = session.execute(
        update(AnnouncementRow)
        .where(
            AnnouncementRow.id == row.id,
            AnnouncementRow.status == PLANNING,
            AnnouncementRow.holder == holder,
        )
        .values(
            status=PLANNING if chunks else DONE,
            matched=len(recipients),
            already_sent=sum(1 for s in recipients if outcomes.get(s) in (DELIVERED, UNREACHABLE)),
            to_send=len(to_send),
            baseline=json.dumps(baseline),
            planned_at=now,
            finished_at=None if chunks else now,
            lease_until=now + PLANNING_LEASE,
        )
    ).rowcount
    if not changed:  # another worker took over after our lease ran out
        session.rollback()
        return []
    session.commit()
    return [chunk.id for chunk in chunks]


def dispatched(session: Session, announcement_id: int, holder: str) -> None:
    """Our planned chunks are queued: the announcement is `sending` (or `done`, when its
    chunks were all sent before this was written)."""
    left = session.scalar(
        select(func.count())
        .select_from(ChunkRow)
        .where(ChunkRow.announcement_id == announcement_id, ChunkRow.status != FINISHED)
    )
    session.execute(
        update(AnnouncementRow)
        .where(
            AnnouncementRow.id == announcement_id,
            AnnouncementRow.status == PLANNING,
            AnnouncementRow.holder == holder,
        )
        .values(
            status=SENDING_CHUNKS if left else DONE,
            lease_until=None,
            finished_at=None if left else utc_now(),
        )
    )
    session.commit()


def claim_chunk(
    session: Session, chunk_id: int | None, holder: str, lease: timedelta
) -> ChunkRow | None:
    """Claim chunk `chunk_id` (or, when None, the oldest claimable one): pending, or running
    under a lease that ran out (its worker died). None when it is not ours to send."""
    now = utc_now()
    claimable = or_(
        ChunkRow.status == PENDING, (ChunkRow.status == RUNNING) & (ChunkRow.lease_until < now)
    )
    if chunk_id is None:
        candidates = list(
            session.scalars(
                select(ChunkRow.id).where(claimable).order_by(ChunkRow.id).limit(5)
            ).all()
        )
    else:
        candidates = [chunk_id]
    for candidate in candidates:
        won = session.execute(
            update(ChunkRow)
            .where(ChunkRow.id == candidate, claimable)
            .values(
                status=RUNNING,
                lease_until=now + lease,
                holder=holder,
                attempts=ChunkRow.attempts + 1,
            )
        ).rowcount
        session.commit()
        if won:
            return session.get(ChunkRow, candidate, populate_existing=True)
    return None


def renew_chunk(session: Session, chunk_id: int, holder: str, lease: timedelta) -> bool:
    """Extend our lease; False when the chunk is no longer ours."""
    renewed = session.execute(
        update(ChunkRow)
        .where(ChunkRow.id == chunk_id, ChunkRow.holder == holder, ChunkRow.status == RUNNING)
        .values(lease_until=utc_now() + lease)
    ).rowcount
    session.commit()
    return bool(renewed)


def finish_chunk(session: Session, chunk: ChunkRow, holder: str) -> bool:
    """Mark our chunk done; the announcement is done with its last chunk. True if it was."""
    session.execute(
        update(ChunkRow)
        .where(ChunkRow.id == chunk.id, ChunkRow.holder == holder)
        .values(status=FINISHED, lease_until=None)
    )
    left = session.scalar(
        select(func.count())
        .select_from(ChunkRow)
        .where(ChunkRow.announcement_id == chunk.announcement_id, ChunkRow.status != FINISHED)
    )
    finished = 0
    if not left:
        finished = session.execute(
            update(AnnouncementRow)
            .where(
                AnnouncementRow.id == chunk.announcement_id,
                AnnouncementRow.status == SENDING_CHUNKS,
            )
            .values(status=DONE, finished_at=utc_now())
        ).rowcount
    session.commit()
    return bool(finished)


def stalled_chunks(session: Session) -> list[int]:
    """Chunks whose worker stopped renewing their lease (killed): to be queued again."""
    return list(
        session.scalars(
            select(ChunkRow.id).where(ChunkRow.status == RUNNING, ChunkRow.lease_until < utc_now())
        ).all()
    )


def announcement_status(session: Session, announcement_id: int) -> str | None:
    """scheduled, planning, sending or done (None: no such announcement); one cheap read."""
    return session.scalar(
        select(AnnouncementRow.status).where(AnnouncementRow.id == announcement_id)
    )


def idle_pending_chunks(session: Session) -> list[int]:
    """Chunks queued and not yet claimed, of announcements being sent, when no chunk at all is
    being sent (so none of them is about to be taken by a busy worker)."""
    running = session.scalar(
        select(func.count()).select_from(ChunkRow).where(ChunkRow.status == RUNNING)
    )
    if running:
        return []
    return list(
        session.scalars(
            select(ChunkRow.id)
            .join(AnnouncementRow, AnnouncementRow.id == ChunkRow.announcement_id)
            .where(ChunkRow.status == PENDING, AnnouncementRow.status == SENDING_CHUNKS)
        ).all()
    )


def ledger_counts(session: Session, key: str) -> dict[str, int]:
    """Deliveries of one announcement by state, from the ledger."""
    rows = session.execute(
        select(BroadcastDelivery.status, func.count())
        .where(BroadcastDelivery.announcement_key == key)
        .group_by(BroadcastDelivery.status)
    ).all()
    return {status: count for status, count in rows}


@dataclass
class Progress:
    """Where one announcement stands, read from the ledger: what the console shows live."""

    id: int
    announcement_key: str
    status: str
    send_at: str
    created_by: str
    texts: dict[str, str]
    topic: str | None
    district: str | None
    event_id: str | None
    matched: int
    already_sent: int
    to_send: int
    delivered: int
    unreachable: int
    failed: int
    unknown: int
    left: int
    rate: float  # while sending: per second over the last RATE_WINDOW; once done: the average
    rate_is_average: bool
    finished_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


RATE_WINDOW = timedelta(seconds=5)


def progress(session: Session, announcement_id: int) -> Progress | None:
    """The announcement's progress, or None when there is no such announcement."""
    row = session.get(AnnouncementRow, announcement_id, populate_existing=True)
    if row is None:
        return None
    counts = ledger_counts(session, row.announcement_key)
    baseline = json.loads(row.baseline or "{}") if row.planned_at else counts
    now_counts = {state: counts.get(state, 0) - baseline.get(state, 0) for state in _TERMINAL}
    done = sum(max(0, count) for count in now_counts.values())
    rate, rate_is_average = _sending_rate(session, row, done)
    return Progress(
        id=row.id,
        announcement_key=row.announcement_key,
        status=row.status,
        send_at=_iso(row.send_at) or "",
        created_by=row.created_by,
        texts=json.loads(row.texts),
        topic=row.topic,
        district=row.district,
        event_id=row.event_id,
        matched=row.matched,
        already_sent=row.already_sent,
        to_send=row.to_send,
        delivered=max(0, now_counts[DELIVERED]),
        unreachable=max(0, now_counts[UNREACHABLE]),
        failed=counts.get(FAILED, 0),
        unknown=counts.get(UNKNOWN, 0),
        left=max(0, row.to_send - done) if row.planned_at else 0,
        rate=rate,
        rate_is_average=rate_is_average,
        finished_at=_iso(row.finished_at),
    )


def _sending_rate(session: Session, row: AnnouncementRow, done: int) -> tuple[float, bool]:
    """(messages per second, whether it is the whole run's average).

    While sending: those answered in the last RATE_WINDOW, over the part of the window since
    the run began (a run younger than the window is not diluted). Once done: every message
    the run answered over its length. The page used to show the window's rate only while
    sending, so a send shorter than its one-second refresh always read 0."""
    planned_at, finished_at = as_utc(row.planned_at), as_utc(row.finished_at)
    if row.status == DONE and planned_at and finished_at:
        seconds = (finished_at - planned_at).total_seconds()
        return (round(done / seconds, 1) if seconds > 0 and done else 0.0), True
    if row.status != SENDING_CHUNKS or planned_at is None:
        return 0.0, False
    now = utc_now()
    since = max(now - RATE_WINDOW, planned_at)
    recent = session.scalar(
        select(func.count())
        .select_from(BroadcastDelivery)
        .where(
            BroadcastDelivery.announcement_key == row.announcement_key,
            BroadcastDelivery.status.in_((DELIVERED, UNREACHABLE)),
            BroadcastDelivery.updated_at >= since,
        )
    )
    seconds = max((now - since).total_seconds(), 0.001)
    return round((recent or 0) / seconds, 1), False


def recent_announcements(session: Session, limit: int = 50) -> list[Progress]:
    """The latest announcements, newest first, each with its report."""
    ids = session.scalars(
        select(AnnouncementRow.id).order_by(AnnouncementRow.id.desc()).limit(limit)
    ).all()
    return [item for item in (progress(session, i) for i in ids) if item is not None]


def outcomes_listed(session: Session, key: str, status: str, limit: int = 200) -> list[dict]:
    """Citizens whose delivery ended `failed` or `unknown`, with the reason (for the report)."""
    rows = session.execute(
        select(BroadcastDelivery.sender_id, BroadcastDelivery.reason)
        .where(BroadcastDelivery.announcement_key == key, BroadcastDelivery.status == status)
        .order_by(BroadcastDelivery.id)
        .limit(limit)
    ).all()
    return [{"sender_id": sender, "reason": reason or ""} for sender, reason in rows]


def _iso(moment: datetime | None) -> str | None:
    moment = as_utc(moment)
    return moment.isoformat(timespec="seconds") if moment else None
