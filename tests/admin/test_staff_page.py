"""The admins' staff page: add an account (its password shown once), remove one, audited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

import staff
from core.database import session_scope
from tests.admin.console_support import console_app, csrf_token_in, log_in


@pytest.fixture
async def admin_client(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    app, conversation = console_app(database_url, {"mei": "admin"})
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        assert (await log_in(client, "mei")).status_code == 303
        yield client, database_url
    await conversation.close()


async def test_an_admin_adds_a_planner_whose_shown_password_logs_in(admin_client) -> None:
    client, url = admin_client
    token = csrf_token_in((await client.get("/admin/staff")).text)
    added = await client.post(
        "/admin/staff/add", data={"csrf_token": token, "name": "li", "role": "planner"}
    )

    assert added.status_code == 200
    assert added.headers["cache-control"] == "no-store"
    password = re.search(r'<code id="new-password">([^<]+)</code>', added.text).group(1)
    assert "Added li (planner)." in added.text
    again = await client.get("/admin/staff")
    assert password not in again.text, "shown once"
    assert "<td>li</td><td>planner</td>" in again.text

    with session_scope(url) as session:
        entries = staff.audit_entries(session)
    assert ("mei", "staff_add", "li", {"name": "li", "role": "planner"}, "203.0.113.9") in [
        (e.actor, e.action, e.target, e.details, e.address) for e in entries
    ]
    client.cookies.clear()
    assert (await log_in(client, "li", password)).status_code == 303
    assert (await client.get("/admin/api/me")).json()["role"] == "planner"


async def test_a_bad_name_or_role_is_refused_with_a_message(admin_client) -> None:
    client, _ = admin_client
    token = csrf_token_in((await client.get("/admin/staff")).text)
    bad_role = await client.post(
        "/admin/staff/add", data={"csrf_token": token, "name": "li", "role": "root"}
    )
    bad_name = await client.post(
        "/admin/staff/add", data={"csrf_token": token, "name": "<li>", "role": "editor"}
    )

    assert bad_role.status_code == 400 and "is not one of" in bad_role.text
    assert bad_name.status_code == 400 and "use 1-64 letters" in bad_name.text
    assert "&lt;li&gt;" in bad_name.text and "<li>'" not in bad_name.text, "escaped"


async def test_an_admin_removes_an_account_but_not_their_own(admin_client) -> None:
    client, url = admin_client
    with session_scope(url) as session:
        staff.add_staff(session, "ana", "organizer", "a long secret 42")
    token = csrf_token_in((await client.get("/admin/staff")).text)

    removed = await client.post("/admin/staff/remove", data={"csrf_token": token, "name": "ana"})
    assert (removed.status_code, removed.headers["location"]) == (303, "/admin/staff")
    refused = await client.post("/admin/staff/remove", data={"csrf_token": token, "name": "mei"})
    assert refused.status_code == 400 and "your own account" in refused.text

    with session_scope(url) as session:
        assert [account.name for account in staff.list_staff(session)] == ["mei"]
        assert staff.audit_entries(session)[0].action == "staff_remove"
