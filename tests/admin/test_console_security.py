"""Every /admin route refuses strangers, other roles and forms without a CSRF token.

The routes are read from the gateway app itself, so a route added later is checked too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import create_engine, text

import staff
from bot.admin.access import SESSION_COOKIE
from core.database import session_scope
from staff.login import ACCOUNT_LIMIT
from tests.admin.browser_support import served
from tests.admin.console_support import (
    PASSWORD,
    admin_routes_of,
    console_app,
    csrf_token_in,
    log_in,
)

PUBLIC = {("/admin/login", "GET"), ("/admin/login", "POST")}
ONE_PER_ROLE = {f"staff_{role}": role for role in staff.ROLES}


@pytest.fixture
async def console(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, object, str]]:
    app, conversation = console_app(database_url, ONE_PER_ROLE)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.5", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, app, database_url
    await conversation.close()


def _guarded_routes(app: object) -> list[tuple[str, str, object]]:
    routes = [(p, m, r) for p, m, r in admin_routes_of(app) if (p, m) not in PUBLIC]
    walked = {path for path, _, _ in routes}
    assert walked >= {"/admin/", "/admin/audit", "/admin/api/me"}
    assert walked >= {"/admin/catalog/sessions", "/admin/catalog/remove"}, "the routes' table"
    return routes


async def _request(client: httpx.AsyncClient, method: str, path: str, **kwargs) -> httpx.Response:
    return await client.request(method, path, follow_redirects=False, **kwargs)


def _outcome(response: httpx.Response) -> str:
    """How a request by a logged-in member of staff was met (an empty form may get a 400, an
    item page without an id a 404)."""
    if response.status_code == 403:
        return "refused (403)"
    if response.status_code == 401 or response.headers.get("location", "").startswith(
        "/admin/login"
    ):
        return "sent to log in"
    answered = response.status_code in (200, 303, 400, 404)
    return "answered" if answered else str(response.status_code)


async def test_a_stranger_gets_401_from_the_api_and_the_login_page_elsewhere(console) -> None:
    client, app, _ = console
    seen = {}
    for path, method, _ in _guarded_routes(app):
        response = await _request(client, method, path)
        if path.startswith("/admin/api/"):
            seen[(method, path)] = (response.status_code, response.json()["error"][:9])
        else:
            location = response.headers.get("location", "")
            seen[(method, path)] = (response.status_code, location.split("?")[0])
    expected = {
        key: (401, "log in fi") if key[1].startswith("/admin/api/") else (303, "/admin/login")
        for key in seen
    }
    assert seen == expected


async def test_each_role_is_refused_every_route_its_role_does_not_allow(console) -> None:
    client, app, _ = console
    routes = _guarded_routes(app)
    for name, role in ONE_PER_ROLE.items():
        client.cookies.clear()
        assert (await log_in(client, name)).status_code == 303
        token = csrf_token_in((await client.get("/admin/")).text)
        seen, expected = {}, {}
        for path, method, route in routes:
            if path == "/admin/logout":
                continue  # every role may log out; checked in its own test
            data = {"csrf_token": token} if method == "POST" else None
            response = await _request(client, method, path, data=data)
            seen[(method, path)] = _outcome(response)
            allowed = role in route.endpoint.allowed_roles
            expected[(method, path)] = "answered" if allowed else "refused (403)"
        assert seen == expected, role
    # Not every route is open to every role: the check above refused something.
    assert any(role not in r.endpoint.allowed_roles for _, _, r in routes for role in staff.ROLES)


async def test_every_post_without_a_valid_csrf_token_is_refused(console) -> None:
    client, app, _ = console
    posts = [(path, route) for path, method, route in admin_routes_of(app) if method == "POST"]
    assert {path for path, _ in posts} >= {"/admin/login", "/admin/logout"}
    assert (await log_in(client, "staff_admin")).status_code == 303
    for path, _ in posts:
        for data in ({}, {"csrf_token": "forged"}):
            response = await _request(client, "POST", path, data=data)
            assert response.status_code == 403, (path, data)
            assert "security token" in response.json()["error"]
    assert (await client.get("/admin/api/me")).json()["name"] == "staff_admin", "still logged in"


async def test_after_logout_the_old_cookie_opens_nothing(console) -> None:
    client, app, url = console
    assert (await log_in(client, "staff_planner")).status_code == 303
    old_cookie = client.cookies[SESSION_COOKIE]
    token = csrf_token_in((await client.get("/admin/")).text)

    response = await _request(client, "POST", "/admin/logout", data={"csrf_token": token})
    assert (response.status_code, response.headers["location"]) == (303, "/admin/login")

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, old_cookie, path="/admin")
    assert (await client.get("/admin/api/me")).status_code == 401
    for path, method, _ in _guarded_routes(app):  # every route, with the old cookie
        response = await _request(client, method, path, data={"csrf_token": token})
        assert _outcome(response) == "sent to log in", (method, path)
    with session_scope(url) as session:
        actions = [entry.action for entry in staff.audit_entries(session)]
    assert actions[:2] == ["logout", "login"]


async def test_the_session_cookie_is_httponly_strict_and_secure_over_https(database_url) -> None:
    app, conversation = console_app(database_url, {"mei": "planner"})
    for base_url, secure in (("http://gateway", False), ("https://gateway", True)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            response = await log_in(client, "mei")
        cookie = next(
            value
            for name, value in response.headers.multi_items()
            if name == "set-cookie" and value.startswith(f"{SESSION_COOKIE}=")
        )
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/admin"} <= flags
        assert ("secure" in flags) == secure, cookie
    await conversation.close()


async def test_behind_a_tls_proxy_the_cookie_is_secure_and_the_address_is_the_clients(
    database_url,
) -> None:
    """Through a real uvicorn, as a TLS proxy on the same machine reaches it: the proxy's
    X-Forwarded-Proto makes the cookies Secure, and X-Forwarded-For is the address that the
    audit log records and the login throttle counts (not the proxy's 127.0.0.1)."""
    app, conversation = console_app(database_url, {"mei": "planner"})
    seen = {}
    try:
        with served(app) as base_url:
            async with httpx.AsyncClient(base_url=base_url) as client:
                for proto, address in (("https", "203.0.113.9"), ("http", "203.0.113.10")):
                    forwarded = {"x-forwarded-proto": proto, "x-forwarded-for": address}
                    page = await client.get("/admin/login", headers=forwarded)
                    login_cookie = page.headers["set-cookie"].split(";")[0]
                    response = await client.post(
                        "/admin/login",
                        headers={**forwarded, "cookie": login_cookie},
                        data={
                            "csrf_token": csrf_token_in(page.text),
                            "name": "mei",
                            "password": PASSWORD,
                        },
                    )
                    assert response.status_code == 303, response.text
                    seen[proto] = [
                        {part.strip().lower() for part in value.split(";")[1:]}
                        for name, value in [
                            *page.headers.multi_items(),
                            *response.headers.multi_items(),
                        ]
                        if name == "set-cookie" and "max-age=0" not in value.lower()
                    ]
    finally:
        await conversation.close()

    assert [("secure" in flags) for flags in seen["https"]] == [True, True], seen
    assert [("secure" in flags) for flags in seen["http"]] == [False, False], seen
    with session_scope(database_url) as session:
        logins = [e.address for e in staff.audit_entries(session) if e.action == "login"]
    assert logins == ["203.0.113.10", "203.0.113.9"]


async def test_five_wrong_passwords_lock_the_login_with_a_clear_message(console) -> None:
    client, _, url = console
    for _ in range(ACCOUNT_LIMIT):
        response = await log_in(client, "staff_editor", "not the password")
        assert response.status_code == 401
        assert "do not match" in response.text
    locked = await log_in(client, "staff_editor", PASSWORD)

    assert locked.status_code == 429
    assert "Too many failed logins. Try again in 15 minutes" in locked.text
    assert SESSION_COOKIE not in locked.cookies
    engine = create_engine(url)
    with engine.connect() as connection:
        failures = connection.execute(text("SELECT COUNT(*) FROM staff_login_failures")).scalar()
    engine.dispose()
    assert failures == ACCOUNT_LIMIT, "counted in the database, so a restart does not reset it"


async def test_the_audit_log_page_shows_logins_and_failures_to_an_admin(console) -> None:
    client, _, _ = console
    await log_in(client, "staff_planner", "wrong password")
    assert (await log_in(client, "staff_admin")).status_code == 303

    page = await client.get("/admin/audit")
    assert page.status_code == 200
    assert "login_failed" in page.text and "staff_planner" in page.text
    entries = (await client.get("/admin/api/audit")).json()["entries"]
    assert [(e["actor"], e["action"], e["address"]) for e in entries[:2]] == [
        ("staff_admin", "login", "198.51.100.5"),
        ("staff_planner", "login_failed", "198.51.100.5"),
    ]
    assert PASSWORD not in page.text and "wrong password" not in page.text


async def test_pages_follow_accept_language_and_the_switch(console) -> None:
    client, _, _ = console
    chinese = await client.get("/admin/login", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in chinese.text and "登录" in chinese.text
    english = await client.get("/admin/login", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Log in" in english.text

    switched = await client.get("/admin/login?lang=zh", headers={"accept-language": "en"})
    assert "登录" in switched.text
    kept = await client.get("/admin/login", headers={"accept-language": "en"})
    assert "登录" in kept.text, "the switch is remembered"


async def test_the_pages_load_only_their_own_files_which_the_policy_allows(console) -> None:
    client, _, _ = console
    page = await client.get("/admin/login")
    policy = page.headers["content-security-policy"]

    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "<style" not in page.text and " style=" not in page.text and "<script>" not in page.text
    assert "http://" not in page.text and "https://" not in page.text
    for asset, kind in (("/admin/static/admin.css", "text/css"), ("/admin/static/admin.js", "")):
        assert asset in page.text
        response = await client.get(asset)
        assert response.status_code == 200 and kind in response.headers["content-type"]


async def test_passwords_are_never_logged(console, caplog: pytest.LogCaptureFixture) -> None:
    client, _, url = console
    caplog.set_level("DEBUG")
    # configure_logging (called by earlier tests) quiets httpx to WARNING; its request lines
    # are what shows the check sees the logins at all.
    caplog.set_level("DEBUG", logger="httpx")
    await log_in(client, "staff_admin", "wrong-but-secret-guess")
    await log_in(client, "nobody_here", "another-secret-guess")
    assert (await log_in(client, "staff_admin")).status_code == 303

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/admin/login" in logged, "the requests were logged, so the check means something"
    for secret in (PASSWORD, "wrong-but-secret-guess", "another-secret-guess"):
        assert secret not in logged
    with session_scope(url) as session:
        audit = " ".join(f"{e.actor} {e.target}" for e in staff.audit_entries(session))
    assert "secret" not in audit and "nobody_here" in audit


async def test_a_login_returns_to_the_page_asked_for_and_never_elsewhere(console) -> None:
    client, _, _ = console
    asked = await _request(client, "GET", "/admin/planner?from=2026-11-01")
    assert asked.headers["location"] == "/admin/login?next=%2Fadmin%2Fplanner%3Ffrom%3D2026-11-01"

    page = await client.get(asked.headers["location"])
    assert 'name="next" value="/admin/planner?from=2026-11-01"' in page.text
    for target, expected in (
        ("/admin/planner?from=2026-11-01", "/admin/planner?from=2026-11-01"),
        ("https://evil.example/admin/", "/admin/"),
        ("//evil.example/admin/", "/admin/"),
        ("/admin//evil.example", "/admin/"),
        ("/admin/\\evil.example", "/admin/"),
    ):
        client.cookies.delete(SESSION_COOKIE)
        token = csrf_token_in((await client.get("/admin/login")).text)  # one per login
        response = await _request(
            client,
            "POST",
            "/admin/login",
            data={
                "csrf_token": token,
                "name": "staff_planner",
                "password": PASSWORD,
                "next": target,
            },
        )
        assert (response.status_code, response.headers["location"]) == (303, expected), target
