"""The audit log: who did what, when, to what, from where; read by admins in the console.

An entry keeps its action's parameters as data (`details`), never a sentence: the console
words them in the reader's language when it shows them (bot/admin/audit_words.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
    details: dict[str, Any] = field(default_factory=dict)


AuditDetails = Mapping[str, str | int | None]


def record_action(
    session: Session,
    actor: str,
    action: str,
    target: str = "",
    address: str = "",
    *,
    details: AuditDetails | None = None,
) -> None:
    """Add one line; `action` is a short code such as `login`, `login_failed`, `staff_add`;
    `target` names what it acted on (an id, a name), `details` its parameters."""
    session.add(
        AuditRecord(
            at=datetime.now(UTC),
            actor=actor[:64],
            action=action[:40],
            target=target[:200],
            address=address[:64],
            details=json.dumps(dict(details), ensure_ascii=False) if details else None,
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
            details=json.loads(record.details) if record.details else {},
        )
        for record in records
    ]


def audit_actions(session: Session) -> list[str]:
    """Every kind of action recorded so far (for the audit page's filter)."""
    return sorted(session.scalars(select(AuditRecord.action).distinct()))


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
