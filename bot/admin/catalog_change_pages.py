"""The catalog editors' pages that change more than an item's fields: its schedule sessions,
and removing the item (after a confirmation page). Each change is audited and searchable at
once: the search index is brought up to date before the page answers.

Through `knowledge`'s public functions (`session_values`, `edit_item_sessions`,
`remove_item`), never its tables.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import staff
from bot.admin.access import client_address
from bot.admin.pages import render
from core.database import session_scope

MOST_SESSIONS = 50  # rows a form may post; more is not a schedule but a mistake


class CatalogChangePages:
    """Handlers for /admin/catalog/sessions and /admin/catalog/remove."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url

    async def catalog_sessions_form(
        self, request: Request, current: staff.StaffSession
    ) -> Response:
        import knowledge

        item_id = request.query_params.get("id", "")[:500]
        item = await run_in_threadpool(self._item, item_id)
        if item is None:
            return _missing(request, current, item_id)
        rows = knowledge.session_values(item)
        return self._sessions_page(request, current, item, rows, {}, saved=False)

    async def catalog_sessions(self, request: Request, current: staff.StaffSession) -> Response:
        import knowledge

        form: dict[str, str] = request.state.form
        item_id = form.get("id", "")[:500]
        rows = _posted_sessions(form, knowledge.SESSION_FIELDS)
        kept = [row for row, removed in rows if not removed]
        try:
            await run_in_threadpool(
                self._save_sessions, current.staff_name, item_id, kept, client_address(request)
            )
        except knowledge.ItemNotFound:
            return _missing(request, current, item_id)
        except knowledge.ItemEditRejected as rejected:
            item = await run_in_threadpool(self._item, item_id)
            problems = {rejection.field: rejection for rejection in rejected.rejections}
            return self._sessions_page(request, current, item, kept, problems, saved=False)
        query = urlencode({"id": item_id, "saved": 1})
        return RedirectResponse(f"/admin/catalog/sessions?{query}", 303)

    async def catalog_remove_form(self, request: Request, current: staff.StaffSession) -> Response:
        item_id = request.query_params.get("id", "")[:500]
        item = await run_in_threadpool(self._item, item_id)
        if item is None:
            return _missing(request, current, item_id)
        return render(request, "catalog_remove.html", current=current, item=item)

    async def catalog_remove(self, request: Request, current: staff.StaffSession) -> Response:
        import knowledge

        item_id = request.state.form.get("id", "")[:500]
        try:
            removed = await run_in_threadpool(
                self._remove, current.staff_name, item_id, client_address(request)
            )
        except knowledge.ItemNotFound:
            return _missing(request, current, item_id)
        return RedirectResponse(f"/admin/catalog?{urlencode({'removed': removed.name})}", 303)

    def _sessions_page(
        self,
        request: Request,
        current: staff.StaffSession,
        item: object,
        rows: list[dict[str, str]],
        problems: dict[str, object],
        *,
        saved: bool,
    ) -> Response:
        import knowledge

        blank = dict.fromkeys(knowledge.SESSION_FIELDS, "")
        return render(
            request,
            "catalog_sessions.html",
            current=current,
            item=item,
            fields=knowledge.SESSION_FIELDS,
            rows=[*rows, blank],
            problems=problems,
            saved=saved or request.query_params.get("saved") == "1",
            status_code=400 if problems else 200,
        )

    def _save_sessions(
        self, actor: str, item_id: str, rows: list[dict[str, str]], address: str
    ) -> None:
        import knowledge

        with session_scope(self.database_url) as session:
            knowledge.edit_item_sessions(session, item_id, rows)
            staff.record_action(session, actor, "catalog_sessions", item_id, address)
        knowledge.ensure_index_from_database(self.database_url)

    def _remove(self, actor: str, item_id: str, address: str):  # type: ignore[no-untyped-def]
        import knowledge

        with session_scope(self.database_url) as session:
            removed = knowledge.remove_item(session, item_id)
            staff.record_action(session, actor, "catalog_remove", item_id, address)
        knowledge.ensure_index_from_database(self.database_url)
        return removed

    def _item(self, item_id: str) -> object | None:
        import knowledge

        with session_scope(self.database_url) as session:
            return knowledge.get_item(session, item_id)


def _posted_sessions(
    form: dict[str, str], fields: tuple[str, ...]
) -> list[tuple[dict[str, str], bool]]:
    """(session fields, whether "remove" is ticked) for each numbered block of the form."""
    count_text = form.get("sessions", "0")
    count = min(int(count_text), MOST_SESSIONS) if count_text.isdigit() else 0
    return [
        (
            {name: form.get(f"{name}_{number}", "")[:500] for name in fields},
            form.get(f"remove_{number}") == "1",
        )
        for number in range(1, count + 1)
    ]


def _missing(request: Request, current: staff.StaffSession, item_id: str) -> Response:
    return render(
        request,
        "catalog_item.html",
        current=current,
        item=None,
        item_id=item_id,
        saved=False,
        status_code=404,
    )
