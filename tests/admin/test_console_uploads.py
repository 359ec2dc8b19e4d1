"""Uploaded catalog files are kept only while needed: deleted once imported, and a file
checked but never imported is swept away after CONSOLE_UPLOAD_KEEP_HOURS (the next time the
import page is used); folders that are not uploads are left alone."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from core.settings import get_settings
from tests.admin.console_support import csrf_token_in
from tests.admin.test_catalog_editing import UPLOAD, data_dir, editor  # noqa: F401 (fixtures)


async def _check(client, name: str, content: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Upload and check a file: (its upload key, the form's CSRF token)."""
    token = csrf_token_in((await client.get("/admin/catalog/import")).text)
    checked = await client.post(
        "/admin/catalog/import/check",
        data={"csrf_token": token},
        files={"file": (name, content.encode(), "text/csv")},
    )
    assert checked.status_code == 200
    key = re.search(r'name="upload" value="([^"]+)"', checked.text)
    assert key is not None
    return key.group(1), token


def _kept(data_dir: Path) -> list[str]:  # noqa: F811
    uploads = data_dir / "uploads"
    return sorted(path.name for path in uploads.iterdir()) if uploads.is_dir() else []


async def test_an_imported_upload_is_deleted_and_cannot_be_imported_twice(
    editor,  # noqa: F811
    data_dir: Path,  # noqa: F811
) -> None:
    client, _ = editor
    key, token = await _check(client, "courses.csv", UPLOAD)
    digest = key.split("/", 1)[0]
    assert _kept(data_dir) == [digest], "kept between the check and the import"

    imported = await client.post(
        "/admin/catalog/import/run", data={"csrf_token": token, "upload": key}
    )
    again = await client.post(
        "/admin/catalog/import/run", data={"csrf_token": token, "upload": key}
    )

    assert imported.status_code == 200 and "2 added" in imported.text
    assert _kept(data_dir) == []
    assert again.status_code == 400 and "upload the file again" in again.text


async def test_an_upload_never_imported_is_removed_after_the_keep_time(
    editor,  # noqa: F811
    data_dir: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, _ = editor
    monkeypatch.setenv("CONSOLE_UPLOAD_KEEP_HOURS", "2")
    get_settings.cache_clear()
    old_key, _ = await _check(client, "old.csv", UPLOAD)
    fresh_key, _ = await _check(client, "fresh.csv", UPLOAD.replace("Rooftop", "Roof"))
    not_ours = data_dir / "uploads" / "notes"
    not_ours.mkdir()
    three_hours_ago = time.time() - 3 * 3600
    old_folder = data_dir / "uploads" / old_key.split("/", 1)[0]
    for path in [*old_folder.rglob("*"), old_folder]:
        os.utime(path, (three_hours_ago, three_hours_ago))

    page = await client.get("/admin/catalog/import")

    assert page.status_code == 200
    assert _kept(data_dir) == sorted([fresh_key.split("/", 1)[0], "notes"])
    token = csrf_token_in(page.text)
    gone = await client.post(
        "/admin/catalog/import/run", data={"csrf_token": token, "upload": old_key}
    )
    assert gone.status_code == 400
