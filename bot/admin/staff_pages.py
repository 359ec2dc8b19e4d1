"""The admins' staff page (/admin/staff): list accounts, add one with a generated password shown
once, remove one. Each change goes into the audit log, as `learncity staff` does."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import staff
from bot.admin.access import client_address
from bot.admin.i18n import WORDS, request_language
from bot.admin.pages import render
from core.database import session_scope


class StaffPages:
    """Handlers for /admin/staff, sharing the database URL."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url

    async def staff_list(self, request: Request, current: staff.StaffSession) -> Response:
        return await self._page(request, current)

    async def staff_add(self, request: Request, current: staff.StaffSession) -> Response:
        form: dict[str, str] = request.state.form
        name, role = form.get("name", "").strip(), form.get("role", "")
        password = staff.generate_password()
        address = client_address(request)
        try:
            await run_in_threadpool(self._add, current.staff_name, name, role, password, address)
        except staff.StaffError as error:
            return await self._page(request, current, error=str(error), status_code=400)
        # The password appears in this one response only (no-store), never in a redirect's URL.
        return await self._page(request, current, added=(name, role, password))

    async def staff_remove(self, request: Request, current: staff.StaffSession) -> Response:
        name = request.state.form.get("name", "")
        if name == current.staff_name:
            words = WORDS[request_language(request)]
            return await self._page(
                request, current, error=words["no_self_remove"], status_code=400
            )
        await run_in_threadpool(self._remove, current.staff_name, name, client_address(request))
        return RedirectResponse("/admin/staff", status_code=303)

    async def _page(
        self,
        request: Request,
        current: staff.StaffSession,
        *,
        error: str = "",
        added: tuple[str, str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        accounts = await run_in_threadpool(self._accounts)
        return render(
            request,
            "staff.html",
            current=current,
            accounts=accounts,
            roles=staff.ROLES,
            error=error,
            added=added,
            status_code=status_code,
        )

    def _accounts(self) -> list[staff.StaffAccount]:
        with session_scope(self.database_url) as session:
            return staff.list_staff(session)

    def _add(self, actor: str, name: str, role: str, password: str, address: str) -> None:
        with session_scope(self.database_url) as session:
            account = staff.add_staff(session, name, role, password)
            staff.record_action(
                session,
                actor,
                "staff_add",
                account.name,
                address,
                details={"name": account.name, "role": account.role},
            )

    def _remove(self, actor: str, name: str, address: str) -> None:
        with session_scope(self.database_url) as session:
            if staff.remove_staff(session, name):
                staff.record_action(session, actor, "staff_remove", name, address)
