"""The catalog editors' import page: upload a catalog file, read the dry run's report of every
bad field of every row (file, row, field, value, reason) before anything is written, then
import the rows that passed; and the history of imports (the command line's too).

The uploaded file is kept between the check and the import (bot/admin/uploads.py), so the
import reads exactly the bytes that were checked, and deleted after the import or, if never
imported, after CONSOLE_UPLOAD_KEEP_HOURS; its source in the catalog is `console/<name>`.
Reading and writing go through `knowledge.import_catalog`. A city's own file can come with a
column map (YAML, kept with the upload), an encoding and a date order (docs/catalog-formats.md);
the check shows how each column was understood. A map that cannot be used is refused with its
line and field, and nothing is kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

import staff
from bot.admin.access import client_address
from bot.admin.pages import render
from bot.admin.uploads import (
    discard_upload,
    kept_map,
    kept_upload,
    remove_stale_uploads,
    store_upload,
    upload_path,
)
from core.database import session_scope
from knowledge.importers import ColumnMapError, CsvReading, load_column_map

if TYPE_CHECKING:
    import knowledge

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # bot/edge.py lets this path's bodies be this large
UPLOAD_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonld", ".json", ".ics")
MAP_SUFFIXES = (".yml", ".yaml")
MAX_MAP_BYTES = 64 * 1024
# The encodings offered (value: label); "" is detection. Python codec names, as --encoding.
ENCODINGS = {
    "": "auto",
    "utf-8": "UTF-8",
    "gb18030": "GB18030",
    "cp1251": "Windows-1251",
    "cp1252": "Windows-1252",
    "utf-16": "UTF-16",
}
DATE_ORDERS = ("", "dmy", "mdy")  # "" is the column map's or the file's own
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
        choice = _reading_choice(form)
        if choice is None:
            return await self._page(request, current, error="upload_reading", status_code=400)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._page(request, current, error="upload_missing", status_code=400)
        name = _safe_name(upload.filename)
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            return await self._page(request, current, error="upload_kind", status_code=400)
        content = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            return await self._page(request, current, error="upload_too_big", status_code=413)
        map_upload = form.get("columns")
        map_name, map_content = "", None
        if isinstance(map_upload, UploadFile) and map_upload.filename:
            map_name = _safe_name(map_upload.filename)
            map_content = await map_upload.read(MAX_MAP_BYTES + 1)
            if not map_name.lower().endswith(MAP_SUFFIXES) or len(map_content) > MAX_MAP_BYTES:
                return await self._page(request, current, error="map_kind", status_code=400)
        await run_in_threadpool(remove_stale_uploads)
        key = await run_in_threadpool(store_upload, content, name, map_content, map_name)
        try:
            reading = await run_in_threadpool(_reading, key, *choice)
        except ColumnMapError as error:
            await run_in_threadpool(discard_upload, key)
            return await self._page(
                request, current, error="column_map", map_error=str(error), status_code=400
            )
        summary = await run_in_threadpool(self._import, upload_path(key), None, True, reading)
        return await self._page(
            request,
            current,
            checked=summary,
            upload_key=key,
            file_name=name,
            map_name=map_name,
            encoding=choice[0],
            date_order=choice[1],
        )

    async def catalog_import_run(self, request: Request, current: staff.StaffSession) -> Response:
        key = request.state.form.get("upload", "")
        path = kept_upload(key)
        if path is None:
            return await self._page(request, current, error="upload_gone", status_code=400)
        choice = _reading_choice(request.state.form)
        if choice is None:
            return await self._page(request, current, error="upload_reading", status_code=400)
        try:
            reading = await run_in_threadpool(_reading, key, *choice)
        except ColumnMapError as error:  # checked already: only a changed file gets here
            return await self._page(
                request, current, error="column_map", map_error=str(error), status_code=400
            )
        summary = await run_in_threadpool(self._import, path, current, False, reading)
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
            map_suffixes=", ".join(MAP_SUFFIXES),
            encodings=ENCODINGS,
            date_orders=DATE_ORDERS,
            status_code=status_code,
            **context,
        )

    def _import(  # type: ignore[no-untyped-def]
        self, path: Path, current: staff.StaffSession | None, dry_run: bool, reading: CsvReading
    ):
        import knowledge

        if dry_run:
            return knowledge.import_catalog(path, session=None, dry_run=True, reading=reading)
        with session_scope(self.database_url) as session:
            summary = knowledge.import_catalog(
                path,
                session=session,
                actor=current.staff_name if current else "",
                reading=reading,
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


def _safe_name(file_name: str) -> str:
    return _SAFE_NAME.sub("_", Path(file_name).name)[-100:]


def _reading_choice(form: Any) -> tuple[str, str] | None:
    """The form's encoding and date order when both are among those offered, else None."""
    encoding, order = form.get("encoding", ""), form.get("date_order", "")
    if encoding not in ENCODINGS or order not in DATE_ORDERS:
        return None
    return encoding, order


def _reading(key: str, encoding: str, date_order: str) -> CsvReading:
    """How to read upload `key`: its kept column map (ColumnMapError if unusable) and choices."""
    map_file = kept_map(key)
    return CsvReading(
        columns=load_column_map(map_file) if map_file else None,
        encoding=encoding or None,
        date_order=date_order or None,
    )
