"""The catalog editors' pages: list and filter the learning offer, read one item in full, edit
it (searchable at once). Uploading files is bot/admin/catalog_import_pages.py.

Through `knowledge`'s public functions (`all_items`, `get_item`, `edit_item`), never its
tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import staff
from bot.admin.access import client_address
from bot.admin.pages import render
from core.database import session_scope

PAGE_SIZE = 50
TYPES = ("course", "space", "event")


@dataclass(frozen=True)
class CatalogFilter:
    """What the editor asked for: words in the name, topics or place; a type; a district."""

    words: str = ""
    type: str = ""
    district: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: dict[str, str]) -> CatalogFilter:
        page_text = params.get("page", "1")
        page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
        kind = params.get("type", "")
        return cls(
            words=params.get("q", "").strip()[:100],
            type=kind if kind in TYPES else "",
            district=params.get("district", "").strip()[:120],
            page=page,
        )

    def keeps(self, item: object) -> bool:
        if self.type and getattr(item, "type", "") != self.type:
            return False
        if self.district and getattr(item, "district", "") != self.district:
            return False
        if self.words:
            haystack = " ".join(
                [
                    getattr(item, "id", ""),
                    getattr(item, "name", ""),
                    getattr(item, "place_name", ""),
                    " ".join(getattr(item, "topics", ())),
                ]
            ).casefold()
            return all(word in haystack for word in self.words.casefold().split())
        return True


class CatalogPages:
    """Handlers for /admin/catalog, sharing the database URL."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url

    async def catalog_list(self, request: Request, current: staff.StaffSession) -> Response:
        chosen = CatalogFilter.from_query(dict(request.query_params))
        items, districts = await run_in_threadpool(self._items)
        kept = [item for item in items if chosen.keeps(item)]
        pages = max(1, -(-len(kept) // PAGE_SIZE))
        page = min(chosen.page, pages)
        shown = kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return render(
            request,
            "catalog.html",
            current=current,
            chosen=chosen,
            items=shown,
            total=len(kept),
            all_count=len(items),
            page=page,
            pages=pages,
            types=TYPES,
            districts=districts,
            removed=request.query_params.get("removed", "")[:500],
        )

    async def catalog_item(self, request: Request, current: staff.StaffSession) -> Response:
        item_id = request.query_params.get("id", "")[:500]
        item = await run_in_threadpool(self._item, item_id)
        return render(
            request,
            "catalog_item.html",
            current=current,
            item=item,
            item_id=item_id,
            saved=request.query_params.get("saved") == "1",
            status_code=200 if item is not None else 404,
        )

    async def catalog_edit_form(self, request: Request, current: staff.StaffSession) -> Response:
        item_id = request.query_params.get("id", "")[:500]
        item = await run_in_threadpool(self._item, item_id)
        if item is None:
            return await self.catalog_item(request, current)
        return await run_in_threadpool(self._edit_page, request, current, item, None, None)

    async def catalog_edit(self, request: Request, current: staff.StaffSession) -> Response:
        import knowledge

        form: dict[str, str] = request.state.form
        item_id = form.get("id", "")[:500]
        changes = {name: form.get(name, "") for name in knowledge.EDITABLE_FIELDS}
        try:
            await run_in_threadpool(
                self._edit, current.staff_name, item_id, changes, client_address(request)
            )
        except knowledge.ItemNotFound:
            return await self.catalog_item(request, current)
        except knowledge.ItemEditRejected as rejected:
            item = await run_in_threadpool(self._item, item_id)
            return await run_in_threadpool(
                self._edit_page, request, current, item, changes, rejected.rejections
            )
        return RedirectResponse(
            f"/admin/catalog/item?{urlencode({'id': item_id, 'saved': 1})}", 303
        )

    def _edit_page(
        self,
        request: Request,
        current: staff.StaffSession,
        item: object,
        values: dict[str, str] | None,
        rejections: list | None,
    ) -> Response:
        import knowledge

        return render(
            request,
            "catalog_edit.html",
            current=current,
            item=item,
            fields=knowledge.EDITABLE_FIELDS,
            values=values or knowledge.editable_values(item),  # type: ignore[arg-type]
            problems={rejection.field: rejection for rejection in rejections or []},
            status_code=400 if rejections else 200,
        )

    def _edit(self, actor: str, item_id: str, changes: dict[str, str], address: str) -> None:
        """Save the change, then bring the search index up to date: only this item is embedded
        again, and the index on disk is what every process (the action server too) reads."""
        import knowledge

        with session_scope(self.database_url) as session:
            knowledge.edit_item(session, item_id, changes)
            staff.record_action(session, actor, "catalog_edit", item_id, address)
        knowledge.ensure_index_from_database(self.database_url)

    def _items(self) -> tuple[list, list[str]]:
        import knowledge  # loads the search libraries (about 1 s) the first time only

        with session_scope(self.database_url) as session:
            items = knowledge.all_items(session)
        districts = sorted({item.district for item in items if item.district})
        return items, districts

    def _item(self, item_id: str) -> object | None:
        import knowledge

        with session_scope(self.database_url) as session:
            return knowledge.get_item(session, item_id)
