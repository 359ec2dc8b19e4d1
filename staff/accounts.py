"""Staff accounts and their roles: add, list, remove, look up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from staff.models import StaffAccountRecord, StaffSessionRecord
from staff.passwords import hash_password

# What each role is for (docs/console.md): organizers announce, planners read the needs,
# editors keep the catalog, help-desk staff take over conversations, admins do everything.
ROLES = ("organizer", "planner", "editor", "helpdesk", "admin")
MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class StaffError(ValueError):
    """A staff request that cannot be done; the message says what to do instead."""


@dataclass(frozen=True)
class StaffAccount:
    name: str
    role: str
    created_at: datetime


def add_staff(session: Session, name: str, role: str, password: str) -> StaffAccount:
    """Create an account; the password is kept only as a scrypt hash."""
    if not _NAME.fullmatch(name):
        raise StaffError(
            f"staff name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with "
            "a letter or digit"
        )
    if role not in ROLES:
        raise StaffError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.get(StaffAccountRecord, name) is not None:
        raise StaffError(f"staff {name!r} already exists (remove it first to change its role)")
    record = StaffAccountRecord(
        name=name, role=role, password_hash=hash_password(password), created_at=_now()
    )
    session.add(record)
    session.flush()
    return _account(record)


def remove_staff(session: Session, name: str) -> bool:
    """Remove an account and end its sessions; False when there was no such account."""
    record = session.get(StaffAccountRecord, name)
    if record is None:
        return False
    session.execute(delete(StaffSessionRecord).where(StaffSessionRecord.staff_name == name))
    session.delete(record)
    session.flush()
    return True


def list_staff(session: Session) -> list[StaffAccount]:
    """Every account, by name."""
    records = session.scalars(select(StaffAccountRecord).order_by(StaffAccountRecord.name))
    return [_account(record) for record in records]


def get_staff(session: Session, name: str) -> StaffAccount | None:
    record = session.get(StaffAccountRecord, name)
    return _account(record) if record is not None else None


def password_hash_of(session: Session, name: str) -> str | None:
    """The stored hash (for `staff.login`); None when there is no such account."""
    record = session.get(StaffAccountRecord, name)
    return record.password_hash if record is not None else None


def rehash_password(session: Session, name: str, password: str) -> None:
    """Store a new hash of `password` (already checked) with today's parameters."""
    record = session.get(StaffAccountRecord, name)
    if record is not None:
        record.password_hash = hash_password(password)


def _account(record: StaffAccountRecord) -> StaffAccount:
    return StaffAccount(name=record.name, role=record.role, created_at=record.created_at)


def _now() -> datetime:
    return datetime.now(UTC)
