"""The help desk's tables: hand-over chats, their messages, and the office hours set in the console."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base

OPEN_STATUSES = ("waiting", "held")


class HandoverChat(Base):
    """One request for a person: waiting in the queue, held by a member of staff, or ended.

    At most one chat per citizen is open (a partial unique index), so two requests at once
    cannot queue the same citizen twice."""

    __tablename__ = "helpdesk_chats"
    __table_args__ = (
        Index(
            "uq_helpdesk_open_chat",
            "sender_id",
            unique=True,
            sqlite_where=text("status != 'ended'"),
            postgresql_where=text("status != 'ended'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(160), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), index=True)  # waiting | held | ended
    reason: Mapped[str] = mapped_column(String(64), default="asked")
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    context: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the last bot turns
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_citizen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HandoverMessage(Base):
    """One message of a hand-over, from the citizen or from staff; staff messages are
    stored before they are sent and marked delivered after, so none is lost or sent twice."""

    __tablename__ = "helpdesk_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("helpdesk_chats.id"), index=True)
    sender_id: Mapped[str] = mapped_column(String(160), index=True)
    author: Mapped[str] = mapped_column(String(8))  # citizen | staff | desk
    staff_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivery_error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class OfficeHoursRecord(Base):
    """The office hours an admin set in the console (one row; none: the setting's)."""

    __tablename__ = "helpdesk_office_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hours: Mapped[str] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
