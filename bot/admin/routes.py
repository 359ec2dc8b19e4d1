"""The console's routes under /admin: login and logout, the home page per role, the audit log,
the planner dashboard and its CSV exports, the admins' staff and health pages.

`admin_routes(database_url)` is the one Mount the gateway adds (bot/gateway.py). Every route
but the login page and the static files goes through `bot.admin.access.guarded`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import staff
from bot.admin.access import (
    EVERY_ROLE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    csrf_refused,
    guarded,
    login_csrf_token,
    page_after_login,
    read_form,
    set_cookie,
    tokens_match,
)
from bot.admin.announce import AnnouncePages
from bot.admin.catalog_change_pages import CatalogChangePages
from bot.admin.catalog_import_pages import CatalogImportPages
from bot.admin.catalog_pages import CatalogPages
from bot.admin.channel_status import channel_states
from bot.admin.guidance_pages import GuidancePages
from bot.admin.health_errors import GatewayErrors, last_errors
from bot.admin.helpdesk_pages import HelpdeskPages
from bot.admin.i18n import WORDS, request_language
from bot.admin.pages import ROLE_TASKS, STATIC, render
from bot.admin.planner_pages import PlannerPages
from bot.admin.staff_pages import StaffPages
from bot.channels.base import ChannelSender
from bot.health import HealthMonitor
from core.database import session_scope
from core.settings import get_settings

AUDIT_PAGE_SIZE = 200


def admin_routes(
    database_url: str | None,
    health: HealthMonitor | None = None,
    channel_names: Sequence[str] = (),
    senders: Callable[[], dict[str, ChannelSender]] | None = None,
) -> Mount:
    """Everything under /admin, reading and writing the staff tables at `database_url`; the
    admins' health page shows `health`'s servers and the configured `channel_names`;
    the help desk pushes replies with `senders()` (organizers' announcements go to the
    broadcast workers)."""
    console = _Console(database_url, health, list(channel_names))
    staff_pages = StaffPages(database_url)
    announce_pages = AnnouncePages(database_url)
    catalog_pages = CatalogPages(database_url)
    helpdesk_pages = HelpdeskPages(database_url, senders)
    planner_pages = PlannerPages(database_url)
    import_pages = CatalogImportPages(database_url)
    guidance_pages = GuidancePages(database_url)

    def page(path: str, handler, roles=EVERY_ROLE, methods=("GET",)) -> Route:  # type: ignore[no-untyped-def]
        endpoint = guarded(
            handler, database_url=database_url, roles=roles, forbidden=console.forbidden
        )
        return Route(path, endpoint, methods=list(methods), name=handler.__name__)

    return Mount(
        "/admin",
        routes=[
            Route("/login", console.login_page, methods=["GET"], name="login_page"),
            Route("/login", console.log_in, methods=["POST"], name="log_in"),
            Mount("/static", app=StaticFiles(directory=STATIC), name="admin_static"),
            page("/", console.home),
            page("/logout", console.log_out, methods=("POST",)),
            page("/audit", console.audit_log, roles=()),
            *announce_pages.routes(page),
            page("/catalog", catalog_pages.catalog_list, roles=("editor",)),
            page("/catalog/item", catalog_pages.catalog_item, roles=("editor",)),
            page("/catalog/edit", catalog_pages.catalog_edit_form, roles=("editor",)),
            page("/catalog/edit", catalog_pages.catalog_edit, roles=("editor",), methods=("POST",)),
            *_catalog_change_routes(page, CatalogChangePages(database_url)),
            page("/catalog/import", import_pages.catalog_import_page, roles=("editor",)),
            page(
                "/catalog/import/check",
                import_pages.catalog_import_check,
                roles=("editor",),
                methods=("POST",),
            ),
            page(
                "/catalog/import/run",
                import_pages.catalog_import_run,
                roles=("editor",),
                methods=("POST",),
            ),
            *helpdesk_pages.routes(page),
            page("/guidance", guidance_pages.guidance, roles=("editor",)),
            page(
                "/guidance/preview",
                guidance_pages.guidance_preview,
                roles=("editor",),
                methods=("POST",),
            ),
            page(
                "/guidance/save", guidance_pages.guidance_save, roles=("editor",), methods=("POST",)
            ),
            page("/staff", staff_pages.staff_list, roles=()),
            page("/staff/add", staff_pages.staff_add, roles=(), methods=("POST",)),
            page("/staff/remove", staff_pages.staff_remove, roles=(), methods=("POST",)),
            page("/planner", planner_pages.planner, roles=("planner",)),
            page("/planner/unmet", planner_pages.planner_group, roles=("planner",)),
            page("/planner.csv", planner_pages.planner_csv, roles=("planner",)),
            page("/planner-open-data.csv", planner_pages.planner_open_data, roles=("planner",)),
            page("/api/me", console.me),
            page("/health", console.health_page, roles=()),
            page("/api/audit", console.audit_api, roles=()),
            page("/api/health", console.health_api, roles=()),
        ],
    )


def _catalog_change_routes(page, pages: CatalogChangePages) -> list[Route]:  # type: ignore[no-untyped-def]
    """An item's sessions and its removal, for catalog editors (forms, then POSTs)."""
    editors = ("editor",)
    return [
        page("/catalog/sessions", pages.catalog_sessions_form, roles=editors),
        page("/catalog/sessions", pages.catalog_sessions, roles=editors, methods=("POST",)),
        page("/catalog/remove", pages.catalog_remove_form, roles=editors),
        page("/catalog/remove", pages.catalog_remove, roles=editors, methods=("POST",)),
    ]


class _Console:
    """The handlers, sharing the database URL."""

    def __init__(
        self, database_url: str | None, health: HealthMonitor | None, channel_names: list[str]
    ) -> None:
        self.database_url = database_url
        self.health = health
        self.errors = GatewayErrors.install()
        self.channel_names = channel_names

    async def login_page(self, request: Request) -> Response:
        return self._login_form(request)

    async def log_in(self, request: Request) -> Response:
        form = await read_form(request)
        if not tokens_match(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return csrf_refused()
        name, password = form.get("name", "").strip(), form.get("password", "")
        try:
            token, _ = await run_in_threadpool(
                self._log_in, name, password, client_address(request)
            )
        except staff.LoginThrottled as throttled:
            minutes = max(1, round(throttled.retry_after / timedelta(minutes=1)))
            words = WORDS[request_language(request)]
            message = words["throttled"].format(minutes=minutes)
            return self._login_form(
                request, error=message, name=name, asked=form.get("next", ""), status_code=429
            )
        except staff.LoginRefused:
            words = WORDS[request_language(request)]
            return self._login_form(
                request,
                error=words["wrong_login"],
                name=name,
                asked=form.get("next", ""),
                status_code=401,
            )
        response = RedirectResponse(page_after_login(form.get("next", "")), status_code=303)
        set_cookie(
            request, response, SESSION_COOKIE, token, int(staff.SESSION_LIFETIME.total_seconds())
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
        return response

    async def log_out(self, request: Request, current: staff.StaffSession) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        await run_in_threadpool(self._log_out, token, current, client_address(request))
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/admin")
        return response

    async def home(self, request: Request, current: staff.StaffSession) -> Response:
        return render(
            request,
            "home.html",
            current=current,
            tasks=ROLE_TASKS.get(current.role, []),
        )

    async def audit_log(self, request: Request, current: staff.StaffSession) -> Response:
        chosen = _AuditFilter.from_query(dict(request.query_params))
        entries, actions = await run_in_threadpool(self._audit_entries, chosen)
        return render(
            request,
            "audit.html",
            current=current,
            entries=entries[:AUDIT_PAGE_SIZE],
            more=len(entries) > AUDIT_PAGE_SIZE,
            chosen=chosen,
            actions=actions,
        )

    async def me(self, request: Request, current: staff.StaffSession) -> Response:
        return JSONResponse(
            {"name": current.staff_name, "role": current.role, "csrf_token": current.csrf_token}
        )

    async def audit_api(self, request: Request, current: staff.StaffSession) -> Response:
        chosen = _AuditFilter.from_query(dict(request.query_params))
        entries, _ = await run_in_threadpool(self._audit_entries, chosen)
        rows = [asdict(entry) | {"at": entry.at.isoformat()} for entry in entries]
        return JSONResponse(
            {"entries": rows[:AUDIT_PAGE_SIZE], "more": len(rows) > AUDIT_PAGE_SIZE}
        )

    async def health_page(self, request: Request, current: staff.StaffSession) -> Response:
        servers = await self._servers()
        return render(
            request,
            "health.html",
            current=current,
            servers=servers,
            channels=await channel_states(self.channel_names, get_settings()),
            errors=await run_in_threadpool(self._last_errors),
        )

    async def health_api(self, request: Request, current: staff.StaffSession) -> Response:
        errors = [asdict(error) for error in await run_in_threadpool(self._last_errors)]
        states = await channel_states(self.channel_names, get_settings())
        return JSONResponse(
            {
                "servers": await self._servers(),
                "channels": self.channel_names,
                "channel_states": [asdict(state) for state in states],
                "errors": errors,
            }
        )

    def _last_errors(self) -> list:
        """The gateway's own last errors and those in the servers' log files."""
        return last_errors(get_settings().data_dir / "logs", self.errors)

    async def _servers(self) -> dict[str, str]:
        """The gateway (answering this) and each server the health monitor probes."""
        servers = {"gateway": "up"}
        if self.health is not None:
            servers.update(await self.health.readiness())
        return servers

    def forbidden(self, request: Request, current: staff.StaffSession) -> Response:
        return render(request, "forbidden.html", current=current, status_code=403)

    def _login_form(
        self,
        request: Request,
        *,
        error: str = "",
        name: str = "",
        asked: str = "",
        status_code: int = 200,
    ) -> Response:
        csrf_token = login_csrf_token(request)
        response = render(
            request,
            "login.html",
            csrf_token=csrf_token,
            error=error,
            name=name,
            next_page=page_after_login(asked or request.query_params.get("next", "")),
            status_code=status_code,
        )
        set_cookie(request, response, LOGIN_CSRF_COOKIE, csrf_token, 3600)
        return response

    def _log_in(self, name: str, password: str, address: str) -> tuple[str, staff.StaffSession]:
        return staff.log_in(self.database_url, name, password, address)

    def _log_out(self, token: str | None, current: staff.StaffSession, address: str) -> None:
        with session_scope(self.database_url) as session:
            staff.end_session(session, token)
            staff.record_action(session, current.staff_name, "logout", "", address)

    def _audit_entries(self, chosen: _AuditFilter) -> tuple[list[staff.AuditEntry], list[str]]:
        """One page of entries (and one more, to tell whether there are more) and the actions."""
        with session_scope(self.database_url) as session:
            entries = staff.audit_entries(
                session,
                limit=AUDIT_PAGE_SIZE + 1,
                offset=(chosen.page - 1) * AUDIT_PAGE_SIZE,
                actor=chosen.actor or None,
                action=chosen.action or None,
            )
            return entries, staff.audit_actions(session)


@dataclass(frozen=True)
class _AuditFilter:
    actor: str = ""
    action: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: dict[str, str]) -> _AuditFilter:
        page_text = params.get("page", "1")
        page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
        return cls(params.get("actor", "")[:64], params.get("action", "")[:40], page)
