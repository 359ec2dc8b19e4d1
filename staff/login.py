"""Logging in: password check, throttling per account and per address, audit lines.

Failures are rows in `staff_login_failures`, so a restart does not reset the count. An
account that failed `ACCOUNT_LIMIT` times in `WINDOW` is refused until the oldest of those
failures leaves the window, even with the right password; an address gets `ADDRESS_LIMIT`
(higher, because an office may share one address).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.database import session_scope
from staff.accounts import password_hash_of, rehash_password
from staff.audit import record_action
from staff.models import LoginFailureRecord
from staff.passwords import dummy_hash, needs_rehash, verify_password
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


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: a session, or a refusal (to raise with `.session_or_raise`)."""

    token: str | None = None
    session: StaffSession | None = None
    refusal: LoginRefused | LoginThrottled | None = None

    def session_or_raise(self) -> tuple[str, StaffSession]:
        if self.refusal is not None or self.token is None or self.session is None:
            raise self.refusal or LoginRefused()
        return self.token, self.session


def attempt_login(session: Session, name: str, password: str, address: str) -> LoginResult:
    """Check a login and open a session. A refusal is returned, not raised, so the caller's
    transaction commits the failure count and the audit line along with it."""
    name = name.strip()[:64]
    now = datetime.now(UTC)
    since = now - WINDOW
    session.execute(delete(LoginFailureRecord).where(LoginFailureRecord.failed_at < since))
    wait = _throttled_for(session, name, address, since, now)
    if wait is not None:
        record_action(session, name or "-", "login_throttled", name, address)
        return LoginResult(refusal=LoginThrottled(wait))
    stored = password_hash_of(session, name)
    matches = verify_password(password, stored or dummy_hash())
    if stored is None or not matches:
        session.add(LoginFailureRecord(staff_name=name, address=address[:64], failed_at=now))
        record_action(session, name or "-", "login_failed", name, address)
        return LoginResult(refusal=LoginRefused())
    session.execute(delete(LoginFailureRecord).where(LoginFailureRecord.staff_name == name))
    if needs_rehash(stored):  # made with weaker parameters: the password is at hand now
        rehash_password(session, name, password)
    token, staff_session = open_session(session, name)
    record_action(session, name, "login", "", address)
    return LoginResult(token=token, session=staff_session)


def log_in(
    database_url: str | None, name: str, password: str, address: str
) -> tuple[str, StaffSession]:
    """`attempt_login` in its own transaction (so a failure is counted), then the session's
    cookie token and the session, or the refusal raised: `LoginThrottled` or `LoginRefused`."""
    with session_scope(database_url) as session:
        result = attempt_login(session, name, password, address)
    return result.session_or_raise()


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
