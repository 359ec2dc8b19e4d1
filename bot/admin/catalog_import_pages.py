"""The catalog editors' import page: upload a catalog file, read the dry run's report of every
bad field of every row (file, row, field, value, reason) before anything is written, then
import the rows that passed; and the history of imports (the command line's too).

The uploaded file is kept between the check and the import (bot/admin/uploads.py), so the
import reads exactly the bytes that were checked, and deleted after the import or, if never
imported, after CONSOLE_UPLOAD_KEEP_HOURS; its source in the catalog is `console/<name>`.
Reading and writing go through `knowledge.import_catalog`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

import staff
from bot.admin.access import client_address
from bot.admin.pages import render
from bot.admin.uploads import (
    discard_upload,
    kept_upload,
    remove_stale_uploads,
    store_upload,
    upload_path,
)
from core.database import session_scope

if TYPE_CHECKING:
    import knowledge

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # bot/edge.py lets this path's bodies be this large
UPLOAD_SUFFIXES = (".csv", ".jsonld", ".json", ".ics")
_SAFE_NAME = re.compile(r"[^\w.\-]+")


class CatalogImportPages:
    """Handlers for /admin/catalog/import..., sharing the database URL."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url

    async def catalog_import_page(self, request: Request, current: staff.StaffSession) -> Response:
        await run_in_threadpool(remove_stale_uploads)
        return await self._page(request, current)

    async def catalog_import_check(self, request: Request, current: staff.StaffSession) -> Response:
        form = await request.form()  # read (and cached) by the CSRF check already
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._page(request, current, error="upload_missing", status_code=400)
        name = _SAFE_NAME.sub("_", Path(upload.filename).name)[-100:]
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            return await self._page(request, current, error="upload_kind", status_code=400)
        content = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            return await self._page(request, current, error="upload_too_big", status_code=413)
        await run_in_threadpool(remove_stale_uploads)
        key = await run_in_threadpool(store_upload, content, name)
        summary = await run_in_threadpool(self._import, upload_path(key), None, True)
        return await self._page(request, current, checked=summary, upload_key=key, file_name=name)

    async def catalog_import_run(self, request: Request, current: staff.StaffSession) -> Response:
        key = request.state.form.get("upload", "")
        path = kept_upload(key)
        if path is None:
            return await self._page(request, current, error="upload_gone", status_code=400)
        summary = await run_in_threadpool(self._import, path, current, False)
        await run_in_threadpool(discard_upload, key)
        await run_in_threadpool(
            self._record, current.staff_name, key.split("/", 1)[1], summary, request
        )
        return await self._page(request, current, imported=summary)

    async def _page(
        self, request: Request, current: staff.StaffSession, *, status_code: int = 200, **context
    ) -> Response:
        history = await run_in_threadpool(self._history)
        return render(
            request,
            "catalog_import.html",
            current=current,
            history=history,
            suffixes=", ".join(UPLOAD_SUFFIXES),
            status_code=status_code,
            **context,
        )

    def _import(self, path: Path, current: staff.StaffSession | None, dry_run: bool):  # type: ignore[no-untyped-def]
        import knowledge

        if dry_run:
            return knowledge.import_catalog(path, session=None, dry_run=True)
        with session_scope(self.database_url) as session:
            summary = knowledge.import_catalog(
                path, session=session, actor=current.staff_name if current else ""
            )
        knowledge.ensure_index_from_database(self.database_url)
        return summary

    def _history(self) -> list:
        import knowledge

        with session_scope(self.database_url) as session:
            return knowledge.import_history(session, limit=50)

    def _record(
        self, actor: str, file_name: str, summary: knowledge.ImportSummary, request: Request
    ) -> None:
        details = {
            "file": file_name,
            "added": summary.added,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "removed": summary.removed,
            "rejected": summary.rejected_rows,
        }
        with session_scope(self.database_url) as session:
            staff.record_action(
                session,
                actor,
                "catalog_import",
                file_name,
                client_address(request),
                details=details,
            )
