"""Staff accounts, sessions and login throttling on a real database (SQLite, and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

import staff
from core.database import session_scope, upgrade_database
from staff.login import ACCOUNT_LIMIT, ADDRESS_LIMIT

PASSWORD = "correct horse battery"


@pytest.fixture
def url(database_url: str) -> str:
    upgrade_database(database_url)
    with session_scope(database_url) as session:
        staff.add_staff(session, "mei", "planner", PASSWORD)
    return database_url


def _raw_rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_the_password_is_stored_only_as_a_salted_scrypt_hash(url: str) -> None:
    with session_scope(url) as session:
        staff.add_staff(session, "li", "planner", PASSWORD)
    rows = _raw_rows(url, "SELECT name, password_hash FROM staff_accounts ORDER BY name")

    assert [name for name, _ in rows] == ["li", "mei"]
    hashes = [stored for _, stored in rows]
    assert all(stored.startswith("scrypt$16384$8$5$") for stored in hashes), hashes
    assert all(PASSWORD not in stored for stored in hashes)
    assert hashes[0] != hashes[1], "the same password hashes differently (salt)"
    assert staff.verify_password(PASSWORD, hashes[0])
    assert not staff.verify_password(PASSWORD + "!", hashes[0])


def test_a_hash_made_with_weaker_parameters_is_replaced_at_the_next_good_login(url: str) -> None:
    salt = os.urandom(16)
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = "$".join(
        ["scrypt", "16384", "8", "1", *(base64.b64encode(v).decode() for v in (salt, key))]
    )
    sql = "UPDATE staff_accounts SET password_hash = :old WHERE name = 'mei'"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(sql), {"old": old})
    engine.dispose()

    with pytest.raises(staff.LoginRefused):
        staff.log_in(url, "mei", PASSWORD + "!", "10.0.0.1")
    assert _raw_rows(url, "SELECT password_hash FROM staff_accounts") == [(old,)], (
        "not on a bad one"
    )
    staff.log_in(url, "mei", PASSWORD, "10.0.0.1")
    [(stored,)] = _raw_rows(url, "SELECT password_hash FROM staff_accounts")

    assert stored.startswith("scrypt$16384$8$5$") and stored != old
    assert staff.verify_password(PASSWORD, stored)
    staff.log_in(url, "mei", PASSWORD, "10.0.0.1")
    assert _raw_rows(url, "SELECT password_hash FROM staff_accounts") == [(stored,)], "once"


def test_a_role_outside_the_list_and_a_short_password_are_refused(url: str) -> None:
    with session_scope(url) as session, pytest.raises(staff.StaffError, match="role"):
        staff.add_staff(session, "wang", "root", PASSWORD)
    with session_scope(url) as session, pytest.raises(staff.StaffError, match="at least"):
        staff.add_staff(session, "wang", "editor", "short")
    with session_scope(url) as session:
        assert [account.name for account in staff.list_staff(session)] == ["mei"]


def test_login_opens_a_session_that_logout_ends(url: str) -> None:
    token, opened = staff.log_in(url, "mei", PASSWORD, "10.0.0.1")
    with session_scope(url) as session:
        found = staff.session_for(session, token)
        assert found == opened and found.role == "planner"
        staff.end_session(session, token)
    with session_scope(url) as session:
        assert staff.session_for(session, token) is None
        assert staff.session_for(session, "made-up-token") is None
    token_hashes = [row[0] for row in _raw_rows(url, "SELECT token_hash FROM staff_sessions")]
    assert token not in token_hashes, "the cookie's token itself is never stored"


def test_an_expired_session_lets_nobody_in(url: str) -> None:
    token, _ = staff.log_in(url, "mei", PASSWORD, "10.0.0.1")
    past = datetime.now(UTC) - timedelta(minutes=1)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE staff_sessions SET expires_at = :past"), {"past": past})
    engine.dispose()

    with session_scope(url) as session:
        assert staff.session_for(session, token) is None


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(url: str) -> None:
    for attempt in range(ACCOUNT_LIMIT):
        with pytest.raises(staff.LoginRefused):
            staff.log_in(url, "mei", f"wrong {attempt}", f"10.0.0.{attempt}")
    with pytest.raises(staff.LoginThrottled) as refused:
        staff.log_in(url, "mei", PASSWORD, "10.0.0.99")

    assert timedelta(minutes=14) < refused.value.retry_after <= timedelta(minutes=15)
    with session_scope(url) as session:
        actions = [entry.action for entry in staff.audit_entries(session)]
    assert actions.count("login_failed") == ACCOUNT_LIMIT
    assert actions[0] == "login_throttled"


def test_the_lock_lifts_when_the_failures_are_older_than_the_window(url: str) -> None:
    for attempt in range(ACCOUNT_LIMIT):
        with pytest.raises(staff.LoginRefused):
            staff.log_in(url, "mei", f"wrong {attempt}", "10.0.0.1")
    engine = create_engine(url)
    with engine.begin() as connection:
        old = datetime.now(UTC) - timedelta(minutes=16)
        connection.execute(text("UPDATE staff_login_failures SET failed_at = :old"), {"old": old})
    engine.dispose()

    token, _ = staff.log_in(url, "mei", PASSWORD, "10.0.0.1")
    assert token


def test_one_address_trying_many_names_is_throttled(url: str) -> None:
    for attempt in range(ADDRESS_LIMIT):
        with pytest.raises(staff.LoginRefused):
            staff.log_in(url, f"guess{attempt}", "password1234", "192.0.2.7")
    with pytest.raises(staff.LoginThrottled):
        staff.log_in(url, "mei", PASSWORD, "192.0.2.7")
    token, _ = staff.log_in(url, "mei", PASSWORD, "192.0.2.8")  # another address gets in
    assert token


def test_removing_an_account_ends_its_sessions(url: str) -> None:
    token, _ = staff.log_in(url, "mei", PASSWORD, "10.0.0.1")
    with session_scope(url) as session:
        assert staff.remove_staff(session, "mei") is True
        assert staff.remove_staff(session, "mei") is False
    with session_scope(url) as session:
        assert staff.session_for(session, token) is None
