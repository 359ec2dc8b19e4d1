"""Shared helpers for the console tests: a gateway on a real database, logging in over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

import staff
from bot.conversation import Conversation
from bot.gateway import create_app
from bot.stack import free_port
from core.database import session_scope, upgrade_database

PASSWORD = "a long secret 42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_app(database_url: str, accounts: dict[str, str]) -> tuple[Starlette, Conversation]:
    """The real gateway app (no Rasa behind it) with `accounts` {name: role} on the database."""
    upgrade_database(database_url)
    with session_scope(database_url) as session:
        for name, role in accounts.items():
            staff.add_staff(session, name, role, PASSWORD)
    conversation = Conversation(
        f"http://127.0.0.1:{free_port()}", timeout=2, database_url=database_url
    )
    return create_app(conversation), conversation


def csrf_token_in(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has a form with a csrf_token field"
    return match.group(1)


async def log_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form, as a browser does (the login page first, for its token)."""
    page = await client.get("/admin/login")
    return await client.post(
        "/admin/login",
        data={"csrf_token": csrf_token_in(page.text), "name": name, "password": password},
    )


@asynccontextmanager
async def logged_in(
    database_url: str, accounts: dict[str, str], name: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the real gateway app on `database_url`, logged in as `name`."""
    app, conversation = console_app(database_url, accounts)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            await log_in(client, name)
            yield client
    finally:
        await conversation.close()


def admin_routes_of(app: object) -> Iterator[tuple[str, str, Route]]:
    """(path, method, route) of every endpoint under /admin, read from the app's own routing."""

    def walk(routes: list[BaseRoute], prefix: str) -> Iterator[tuple[str, str, Route]]:
        for route in routes:
            if isinstance(route, Mount):
                if route.routes:
                    yield from walk(list(route.routes), prefix + route.path)
            elif isinstance(route, Route):
                for method in sorted(route.methods or {"GET"}):
                    if method != "HEAD":
                        yield prefix + route.path, method, route

    for path, method, route in walk(list(app.routes), ""):  # type: ignore[attr-defined]
        if path.startswith("/admin"):
            yield path, method, route
