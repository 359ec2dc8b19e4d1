"""Catalog editors change the offer from the console: an edited item is found by a real search
at once (in this process and in another one reading the index on disk, as the action server
does); a bad edit names every bad field and saves nothing; an uploaded file is checked first,
listing every bad field of every row, then imported, and the import history shows it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

import knowledge
import staff
from core.database import session_scope
from core.settings import get_settings
from knowledge.search import SearchService
from tests.admin.console_support import console_app, csrf_token_in, log_in

HEADER = "id,type,name,description,topics,district,latitude,longitude,days,start_time,end_time\n"
ROWS = [
    "lc-erhu,course,Erhu lessons,The two-stringed fiddle,erhu,Xicheng,31.22,121.41,mon,18:30,20:00",
    "lc-yoga,course,Morning yoga,Stretching and breathing,yoga,Nanhu,31.23,121.48,tue,07:00,08:00",
    "lc-chess,course,Chess club,Openings and tactics,chess,Dongcheng,31.23,121.47,wed,19:00,21:00",
]
UPLOAD = (
    HEADER
    + "\n".join(
        [
            "lc-bees,course,Urban beekeeping,Rooftop hives,beekeeping,Beishan,31.29,121.46,sun,10:00,12:00",
            "lc-bad1,course,Broken times,,knitting,Nanhu,95,121.4,someday,25:00,12:00",
            "lc-knit,course,Knitting circle,Wool and needles,knitting,Nanhu,31.2,121.4,thu,14:00,16:00",
            ",workshop,,,clay,Nanhu,31.2,abc,mon,10:00,11:00",
        ]
    )
    + "\n"
)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at a temp data folder (search index, uploads)."""
    monkeypatch.setenv("LEARNCITY_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
async def editor(data_dir: Path, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    database_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    app, conversation = console_app(database_url, {"wu": "editor", "ana": "organizer"})
    catalog = tmp_path / "city" / "courses.csv"
    catalog.parent.mkdir()
    catalog.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    with session_scope(database_url) as session:
        knowledge.import_catalog(catalog, session=session)
    knowledge.ensure_index_from_database(database_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "wu")
        yield client, database_url
    await conversation.close()


def _found(query: str, searcher=None) -> list[str]:  # type: ignore[no-untyped-def]
    results = (searcher or knowledge.get_search_service()).search(query, limit=3)
    return [result.item.id for result in results if result.matched]


async def test_an_edited_item_is_found_by_search_at_once(editor, data_dir: Path) -> None:
    client, database_url = editor
    assert "lc-erhu" not in _found("guqin zither")
    form = await client.get("/admin/catalog/edit?id=lc-erhu")
    assert form.status_code == 200 and 'value="Erhu lessons"' in form.text

    saved = await client.post(
        "/admin/catalog/edit",
        data={
            "csrf_token": csrf_token_in(form.text),
            "id": "lc-erhu",
            "name": "Guqin zither lessons",
            "description": "The seven-stringed zither, for beginners",
            "topics": "guqin | zither | music",
            "district": "Xicheng",
            "latitude": "31.22",
            "longitude": "121.41",
        },
    )

    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/catalog/item?id=lc-erhu&saved=1"
    assert _found("guqin zither")[:1] == ["lc-erhu"]
    other_process = SearchService(data_dir / "index")  # reads the index on disk, as actions do
    assert other_process.load() and _found("guqin zither", other_process)[:1] == ["lc-erhu"]
    with session_scope(database_url) as session:
        item = knowledge.get_item(session, "lc-erhu")
        latest = staff.audit_entries(session)[0]
    assert item is not None and item.topics == ("guqin", "zither", "music")
    assert item.schedule_text() == "Mon 18:30-20:00", "sessions are kept as imported"
    assert (latest.actor, latest.action, latest.target) == ("wu", "catalog_edit", "lc-erhu")


async def test_a_bad_edit_names_every_bad_field_and_saves_nothing(editor) -> None:
    client, database_url = editor
    form = await client.get("/admin/catalog/edit?id=lc-yoga&lang=zh")
    response = await client.post(
        "/admin/catalog/edit",
        data={
            "csrf_token": csrf_token_in(form.text),
            "id": "lc-yoga",
            "name": "",
            "latitude": "131.2",
            "url": "javascript:alert(1)",
            "free": "maybe",
        },
    )

    assert response.status_code == 400
    assert "没有保存" in response.text
    invalid = sorted(set(re.findall(r'id="field-(\w+)"[^>]*aria-invalid="true"', response.text)))
    assert invalid == ["free", "latitude", "name", "url"]
    with session_scope(database_url) as session:
        item = knowledge.get_item(session, "lc-yoga")
    assert item is not None and item.name == "Morning yoga" and item.latitude == 31.23


async def test_an_upload_is_checked_row_by_row_before_anything_is_written(editor) -> None:
    client, database_url = editor
    page = await client.get("/admin/catalog/import")
    token = csrf_token_in(page.text)
    checked = await client.post(
        "/admin/catalog/import/check",
        data={"csrf_token": token},
        files={"file": ("new courses.csv", UPLOAD.encode(), "text/csv")},
    )

    assert checked.status_code == 200
    rows = re.findall(
        r"<tr><td>new_courses\.csv</td><td>(row \d+)</td><td>(\w+)</td>", checked.text
    )
    assert rows == [
        ("row 3", "latitude"),
        ("row 3", "days"),
        ("row 3", "start_time"),
        ("row 5", "id"),
        ("row 5", "type"),
        ("row 5", "name"),
        ("row 5", "longitude"),
    ]
    assert (
        'id="check-summary">2 items can be imported; 2 rows rejected (7 bad fields).'
        in checked.text
    )
    with session_scope(database_url) as session:
        assert knowledge.count_items(session) == 3
        before = knowledge.import_history(session)
    assert [(h.actor, h.added) for h in before] == [("", 3)], "only the fixture's import"

    upload = re.search(r'name="upload" value="([^"]+)"', checked.text)
    assert upload is not None
    imported = await client.post(
        "/admin/catalog/import/run", data={"csrf_token": token, "upload": upload.group(1)}
    )

    assert imported.status_code == 200
    assert "2 added, 0 updated, 0 unchanged, 2 rows rejected" in imported.text
    assert _found("beekeeping")[:1] == ["lc-bees"]
    with session_scope(database_url) as session:
        history = knowledge.import_history(session)
        latest = staff.audit_entries(session)[0]
    assert [(h.actor, h.sources, h.added, h.rejected_rows) for h in history] == [
        ("wu", ["console/new_courses.csv"], 2, 2),
        ("", ["city/courses.csv"], 3, 0),
    ]
    assert (latest.action, latest.target) == ("catalog_import", "new_courses.csv")
    assert (latest.details["added"], latest.details["rejected"]) == (2, 2)
    assert "console/new_courses.csv" in (await client.get("/admin/catalog/import")).text


async def test_an_upload_of_an_unknown_kind_or_a_forged_key_is_refused(editor) -> None:
    client, _ = editor
    token = csrf_token_in((await client.get("/admin/catalog/import")).text)
    wrong_kind = await client.post(
        "/admin/catalog/import/check",
        data={"csrf_token": token},
        files={"file": ("notes.exe", b"MZ", "application/octet-stream")},
    )
    forged = await client.post(
        "/admin/catalog/import/run", data={"csrf_token": token, "upload": "../../etc/passwd"}
    )
    assert wrong_kind.status_code == 400 and "cannot be imported" in wrong_kind.text
    assert forged.status_code == 400 and "no longer here" in forged.text
