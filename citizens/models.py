"""Tables for citizen records; only `citizens.records` touches them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base


def _now() -> datetime:
    return datetime.now(UTC)


class CitizenProfile(Base):
    __tablename__ = "citizen_profiles"

    sender_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )


class LearningNeedRecord(Base):
    __tablename__ = "learning_needs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(160), index=True)
    topic: Mapped[str] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(120), nullable=True)
    preferred_times: Mapped[str | None] = mapped_column(String(120), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    age_group: Mapped[str | None] = mapped_column(String(40), nullable=True)
    consent_given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class EventSubscription(Base):
    __tablename__ = "event_subscriptions"
    __table_args__ = (UniqueConstraint("sender_id", "topic", "district", name="uq_subscription"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(160), index=True)
    # Empty string rather than NULL so the unique constraint also holds for "all topics".
    topic: Mapped[str] = mapped_column(String(200), default="")
    district: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
