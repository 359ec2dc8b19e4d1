"""Logging in: password check, throttling per account and per address, audit lines.

Failures are rows in `staff_login_failures`, so a restart does not reset the count. An
account that failed `ACCOUNT_LIMIT` times in `WINDOW` is refused until the oldest of those
failures leaves the window, even with the right password; an address gets `ADDRESS_LIMIT`
(higher, because an office may share one address).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from staff.accounts import password_hash_of
from staff.audit import record_action
from staff.models import LoginFailureRecord
from staff.passwords import dummy_hash, verify_password
from staff.sessions import StaffSession, open_session

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20


class LoginRefused(Exception):
    """Wrong name or password (which one is not said)."""


class LoginThrottled(Exception):
    """Too many failures lately; `retry_after` says how long to wait."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after}")
        self.retry_after = retry_after


def log_in(session: Session, name: str, password: str, address: str) -> tuple[str, StaffSession]:
    """Check a login and open a session: (cookie token, session). Raises `LoginThrottled` or
    `LoginRefused`; every outcome is written to the audit log."""
    name = name.strip()[:64]
    now = datetime.now(UTC)
    since = now - WINDOW
    session.execute(delete(LoginFailureRecord).where(LoginFailureRecord.failed_at < since))
    wait = _throttled_for(session, name, address, since, now)
    if wait is not None:
        record_action(session, name or "-", "login_throttled", name, address)
        raise LoginThrottled(wait)
    stored = password_hash_of(session, name)
    matches = verify_password(password, stored or dummy_hash())
    if stored is None or not matches:
        session.add(LoginFailureRecord(staff_name=name, address=address[:64], failed_at=now))
        record_action(session, name or "-", "login_failed", name, address)
        raise LoginRefused()
    session.execute(delete(LoginFailureRecord).where(LoginFailureRecord.staff_name == name))
    token, staff_session = open_session(session, name)
    record_action(session, name, "login", "", address)
    return token, staff_session


def _throttled_for(
    session: Session, name: str, address: str, since: datetime, now: datetime
) -> timedelta | None:
    """How long until a login may be tried again; None when it may be tried now."""
    for column, value, limit in (
        (LoginFailureRecord.staff_name, name, ACCOUNT_LIMIT),
        (LoginFailureRecord.address, address[:64], ADDRESS_LIMIT),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailureRecord.failed_at)).where(
                column == value, LoginFailureRecord.failed_at >= since
            )
        ).one()
        if count >= limit and oldest is not None:
            oldest = oldest if oldest.tzinfo is not None else oldest.replace(tzinfo=UTC)
            return max(oldest + WINDOW - now, timedelta(seconds=1))
    return None
