"""Who may open what under /admin: the session cookie, roles, CSRF tokens, cookie flags.

One guard (`guarded`) wraps every console endpoint but the login page, in this order:
no live session → 401 JSON for /admin/api/..., a redirect to /admin/login for pages;
a role the route does not list → 403; a POST whose form lacks the session's CSRF token → 403.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

import staff
from core.database import session_scope

SESSION_COOKIE = "learncity_admin"
LOGIN_CSRF_COOKIE = "learncity_admin_csrf"
COOKIE_PATH = "/admin"
EVERY_ROLE = frozenset(staff.ROLES)

Handler = Callable[[Request, staff.StaffSession], Awaitable[Response]]
Forbidden = Callable[[Request, staff.StaffSession], Response]


def guarded(
    handler: Handler,
    *,
    database_url: str | None,
    roles: Iterable[str],
    forbidden: Forbidden,
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint for `handler`, open only to a live session whose role is in `roles`.

    `admin` is always allowed. The allowed roles stay on the endpoint as `allowed_roles`."""
    allowed = frozenset(roles) | {"admin"}

    async def endpoint(request: Request) -> Response:
        current = await run_in_threadpool(
            _live_session, database_url, request.cookies.get(SESSION_COOKIE)
        )
        if current is None:
            if is_api(request):
                return JSONResponse({"error": "log in first at /admin/login"}, status_code=401)
            return RedirectResponse(login_url(request), status_code=303)
        if current.role not in allowed:
            if is_api(request):
                return JSONResponse({"error": "your role does not allow this"}, status_code=403)
            return forbidden(request, current)
        if request.method == "POST":
            form = await read_form(request)
            if not tokens_match(form.get("csrf_token"), current.csrf_token):
                return csrf_refused()
            request.state.form = form
        return await handler(request, current)

    endpoint.allowed_roles = allowed  # type: ignore[attr-defined]
    endpoint.__name__ = handler.__name__
    return endpoint


def login_url(request: Request) -> str:
    """The login page, remembering the page asked for so the login can return to it."""
    if request.method != "GET":
        return "/admin/login"
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/admin/login?" + urlencode({"next": asked})


def page_after_login(asked: str) -> str:
    """Where a login goes next: the page asked for when it is a console page, else home
    (never another site: no `//host`, no backslashes, no control characters)."""
    if (
        asked.startswith("/admin/")
        and not asked.startswith("/admin/login")
        and "\\" not in asked
        and "//" not in asked
        and all(character.isprintable() for character in asked)
        and len(asked) <= 500
    ):
        return asked
    return "/admin/"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/admin/api/")


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form's fields (first value of each); a multipart form's text fields (its
    files, at most two: a catalog file and its column map, stay in `await request.form()`,
    which Starlette keeps); anything else is empty."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        multipart = await request.form(max_files=2, max_fields=50)
        return {key: value for key, value in multipart.items() if isinstance(value, str)}
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    form: dict[str, str] = {}
    for key, value in parse_qsl(body, keep_blank_values=True, max_num_fields=50):
        form.setdefault(key, value)
    return form


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the expected one."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def csrf_refused() -> Response:
    return JSONResponse(
        {"error": "the form's security token is missing or old: reload the page and try again"},
        status_code=403,
    )


def login_csrf_token(request: Request) -> str:
    """The login form's token: the one in its cookie, or a new one (double-submit)."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Strict, limited to /admin, and Secure when the request came over https
    (behind a TLS proxy, uvicorn reads X-Forwarded-Proto from the proxies it trusts)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _live_session(database_url: str | None, token: str | None) -> staff.StaffSession | None:
    if not token:
        return None
    with session_scope(database_url) as session:
        return staff.session_for(session, token)
