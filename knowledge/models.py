"""Tables for the catalog (courses, learning spaces, events) and unmet demand; only `knowledge` touches them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base


def _now() -> datetime:
    return datetime.now(UTC)


class CatalogRecord(Base):
    """One catalog item, keyed by its source's own id (schema.org @id, HSDS id, iCal UID, CSV id).

    Lists (topics, languages, sessions...) are JSON columns: the catalog is read whole into the
    search index, never queried by those fields in SQL.
    """

    __tablename__ = "catalog_items"

    id: Mapped[str] = mapped_column(String(512), primary_key=True)
    source: Mapped[str] = mapped_column(String(300), index=True)
    type: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)
    free: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    price: Mapped[str] = mapped_column(String(200), default="")
    place_name: Mapped[str] = mapped_column(String(500), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    district: Mapped[str] = mapped_column(String(120), default="", index=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    sessions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    amenities: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    # ISO 8601 text as the source gave it (date or date-time, with offset when known).
    starts_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ends_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    url: Mapped[str] = mapped_column(String(1000), default="")
    organizer: Mapped[str] = mapped_column(String(500), default="")
    extra: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )


class UnmetDemandRecord(Base):
    """A search that found nothing: what was asked, and by which sender id (shown in "my data",
    erased by "forget me", counted as citizens in open data; never shown to staff)."""

    __tablename__ = "unmet_demand"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    query: Mapped[str] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    district: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class CatalogImportRecord(Base):
    """One catalog import that wrote to the catalog (command line or console), for its history."""

    __tablename__ = "catalog_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(120), default="")  # staff name or "cli:<user>"
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    rejected_rows: Mapped[int] = mapped_column(Integer, default=0)
