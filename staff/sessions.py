"""Server-side console sessions: a random token in the cookie, its hash and expiry in the table."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from staff.models import StaffAccountRecord, StaffSessionRecord

SESSION_LIFETIME = timedelta(hours=8)  # one working day; then log in again


@dataclass(frozen=True)
class StaffSession:
    """A live session: whose, with which role, and the CSRF token its forms must carry."""

    staff_name: str
    role: str
    csrf_token: str
    expires_at: datetime


def open_session(session: Session, staff_name: str) -> tuple[str, StaffSession]:
    """A new session for `staff_name`: (the cookie's token, the session)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    record = StaffSessionRecord(
        token_hash=_digest(token),
        staff_name=staff_name,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(record)
    # Expired sessions are swept when a new one opens: the table stays small without a job.
    session.execute(delete(StaffSessionRecord).where(StaffSessionRecord.expires_at < now))
    session.flush()
    account = session.get(StaffAccountRecord, staff_name)
    role = account.role if account is not None else ""
    return token, StaffSession(staff_name, role, record.csrf_token, record.expires_at)


def session_for(session: Session, token: str | None) -> StaffSession | None:
    """The live session of a cookie's token; None when unknown, expired or its account is gone."""
    if not token or len(token) > 200:
        return None
    record = session.get(StaffSessionRecord, _digest(token))
    if record is None:
        return None
    expires_at = _aware(record.expires_at)
    if expires_at <= datetime.now(UTC):
        session.delete(record)
        return None
    account = session.get(StaffAccountRecord, record.staff_name)
    if account is None:
        return None
    return StaffSession(record.staff_name, account.role, record.csrf_token, expires_at)


def end_session(session: Session, token: str | None) -> None:
    """Log out: the token stops working at once."""
    if token:
        session.execute(
            delete(StaffSessionRecord).where(StaffSessionRecord.token_hash == _digest(token))
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
