"""Tables the bot package owns: broadcast deliveries and the web chat's outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base


def _now() -> datetime:
    return datetime.now(UTC)


class BroadcastDelivery(Base):
    """One citizen's copy of one announcement; the unique key makes re-runs idempotent."""

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_key", "sender_id", name="uq_broadcast_delivery"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    announcement_key: Mapped[str] = mapped_column(String(120), index=True)
    sender_id: Mapped[str] = mapped_column(String(160), index=True)  # erasure filters on it
    channel: Mapped[str] = mapped_column(String(32))
    # sending (claimed right before its send), delivered, unreachable, failed (never reached
    # the platform: retried), unknown (interrupted or timed out: reported, resent on request)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )


class WebOutboxMessage(Base):
    """A reply waiting for a web chat page to poll it (broadcasts reach the web this way)."""

    __tablename__ = "web_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    reply: Mapped[str] = mapped_column(Text)  # Reply.as_dict() as JSON
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
