"""The catalog editors' pages: list and filter the learning offer, read one item in full.

Read through `knowledge`'s public functions (`all_items`, `get_item`), never its tables.
Editing an item and uploading a file with a dry run are not built yet (docs/console.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

import staff
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
            status_code=200 if item is not None else 404,
        )

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
