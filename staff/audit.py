"""The audit log: who did what, when, to what, from where; read by admins in the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff.models import AuditRecord


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    address: str


def record_action(
    session: Session, actor: str, action: str, target: str = "", address: str = ""
) -> None:
    """Add one line; `action` is a short verb such as `login`, `login_failed`, `staff_add`."""
    session.add(
        AuditRecord(
            at=datetime.now(UTC),
            actor=actor[:64],
            action=action[:40],
            target=target[:200],
            address=address[:64],
        )
    )
    session.flush()


def audit_entries(
    session: Session,
    limit: int = 200,
    offset: int = 0,
    *,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """The newest entries first; only one actor's or one kind of action when given."""
    query = select(AuditRecord)
    if actor:
        query = query.where(AuditRecord.actor == actor)
    if action:
        query = query.where(AuditRecord.action == action)
    records = session.scalars(
        query.order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(limit).offset(offset)
    )
    return [
        AuditEntry(
            at=_aware(record.at),
            actor=record.actor,
            action=record.action,
            target=record.target,
            address=record.address,
        )
        for record in records
    ]


def audit_actions(session: Session) -> list[str]:
    """Every kind of action recorded so far (for the audit page's filter)."""
    return sorted(session.scalars(select(AuditRecord.action).distinct()))


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
