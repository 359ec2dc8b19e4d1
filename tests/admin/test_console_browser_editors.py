"""The catalog editor's, guidance and health pages in real Chromium: edit an item and find it
with search, upload a file with bad rows and see every error before importing, edit a guidance
text with a preview; keyboard, labels and contrast checked; the screenshots in docs/."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import knowledge
from actions import newcomer_guidance
from core.database import session_scope
from core.settings import get_settings
from knowledge.importers.reasons import ENGLISH
from tests.admin.browser_support import (
    LOW_CONTRAST_TEXT,
    SCREENSHOTS,
    browser_page,
    log_in_with,
    require_chromium,
    served,
)
from tests.admin.console_support import console_app

HEADER = "id,type,name,description,topics,district,latitude,longitude,days,start_time,end_time\n"
CATALOG = HEADER + (
    "lc-erhu,course,Erhu lessons,The two-stringed fiddle,erhu,Xicheng,31.22,121.41,mon,18:30,20:00\n"
    "lc-yoga,course,Morning yoga,Stretching and breathing,yoga,Nanhu,31.23,121.48,tue,07:00,08:00\n"
)
UPLOAD = HEADER + (
    "lc-bees,course,Urban beekeeping,Rooftop hives,beekeeping,Beishan,31.29,121.46,sun,10:00,12:00\n"
    "lc-bad1,course,Broken times,,knitting,Nanhu,95,121.4,someday,25:00,12:00\n"
    ",workshop,,,clay,Nanhu,31.2,abc,mon,10:00,11:00\n"
)
LAPTOP = (1280, 800)
TABLET = (768, 1024)


@pytest.fixture
def served_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """The gateway on a real port over a small catalog and its search index, with an editor
    and an admin, and a copy of the guidance file: (address, database URL)."""
    require_chromium()
    guidance = tmp_path / "newcomers.yml"
    shutil.copy(newcomer_guidance.GUIDANCE_FILE, guidance)
    monkeypatch.setenv("LEARNCITY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEARNCITY_GUIDANCE_FILE", str(guidance))
    get_settings.cache_clear()
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    app, _ = console_app(database_url, {"wu": "editor", "mei": "admin"})
    catalog = tmp_path / "city" / "courses.csv"
    catalog.parent.mkdir()
    catalog.write_text(CATALOG, encoding="utf-8")
    with session_scope(database_url) as session:
        knowledge.import_catalog(catalog, session=session)
    knowledge.ensure_index_from_database(database_url)
    with served(app) as base_url:
        yield base_url, database_url
    get_settings.cache_clear()


# Words the reasons may keep in Latin letters: values a field accepts, formats and examples.
_TECHNICAL = {"course", "space", "event", "mo", "monday", "iso", "true", "false", "yes", "no"}


def _english_in_reasons(rows: list[list[str]]) -> list[str]:
    """English words of the importers' reasons (knowledge/importers/reasons.py) found in the
    reason column, leaving out the row's own value as written."""
    english = {
        word.lower()
        for text in ENGLISH.values()
        for word in re.findall(r"[A-Za-z]{2,}", text)
        if word.lower() not in _TECHNICAL
    }
    found = []
    for _file, _row, _field, value, shown in rows:
        words = re.findall(r"[A-Za-z]{2,}", shown.replace(value, "") if value else shown)
        found += [f"{shown!r}: {word}" for word in words if word.lower() in english]
    return found


def _found(query: str) -> list[str]:
    return [r.item.id for r in knowledge.search(query, limit=3) if r.matched]


async def test_an_editor_edits_an_item_and_search_finds_it(served_editor, tmp_path) -> None:
    base_url, _ = served_editor
    assert "lc-erhu" not in _found("guqin")
    async with browser_page("en-GB", *LAPTOP) as page:
        await log_in_with(page, base_url, "wu", "Staff name", "Password")
        await page.get_by_role("link", name="Catalog").first.click()
        await page.get_by_label("Words in the name, topics or place").fill("erhu")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/admin/catalog?*")
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(path=str(SCREENSHOTS / "console-catalog.png"), full_page=True)
        await page.get_by_role("link", name="Erhu lessons").click()
        await page.get_by_role("link", name="Edit this item").click()
        await page.get_by_label("Name", exact=True).fill("Guqin lessons")
        await page.get_by_label("Topics").fill("guqin | zither")
        await page.get_by_label("Latitude").fill("131.22")  # a slip: refused, nothing saved
        await page.get_by_role("button", name="Save").click()
        alert = page.get_by_role("alert")
        assert "latitude" in (await alert.inner_text()).lower()
        assert await page.evaluate("document.activeElement.id") == "edit-problems"
        await page.keyboard.press("Tab")  # the keyboard reaches the bad field from the list
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "field-latitude"
        assert await page.get_by_label("Latitude").get_attribute("aria-invalid") == "true"
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(path=str(SCREENSHOTS / "console-catalog-edit.png"), full_page=True)
        assert "lc-erhu" not in _found("guqin")

        await page.get_by_label("Latitude").fill("31.22")
        await page.get_by_role("button", name="Save").click()
        await page.wait_for_url("**/admin/catalog/item?id=lc-erhu&saved=1")
        assert "Saved" in await page.get_by_role("status").inner_text()
        assert await page.get_by_role("heading", level=1).inner_text() == "Guqin lessons"
    assert _found("guqin")[:1] == ["lc-erhu"]


async def test_an_editor_uploads_a_file_sees_every_error_then_imports(
    served_editor, tmp_path
) -> None:
    base_url, database_url = served_editor
    upload = tmp_path / "new courses.csv"
    upload.write_text(UPLOAD, encoding="utf-8")
    async with browser_page("zh-CN", *TABLET) as page:
        await log_in_with(page, base_url, "wu", "工作人员账号", "密码")
        await page.goto(f"{base_url}/admin/catalog")
        await page.get_by_role("link", name="导入目录文件").click()
        await page.get_by_label("目录文件").set_input_files(str(upload))
        await page.get_by_role("button", name="检查文件（不写入）").click()
        await page.wait_for_url("**/admin/catalog/import/check")

        rows = await page.locator("#rejections tbody tr").all_inner_texts()
        cells = [row.split("\t")[:3] for row in rows]
        assert cells == [
            ["new_courses.csv", "第 3 行", "latitude"],
            ["new_courses.csv", "第 3 行", "days"],
            ["new_courses.csv", "第 3 行", "start_time"],
            ["new_courses.csv", "第 4 行", "id"],
            ["new_courses.csv", "第 4 行", "type"],
            ["new_courses.csv", "第 4 行", "name"],
            ["new_courses.csv", "第 4 行", "longitude"],
        ]
        assert _english_in_reasons([row.split("\t") for row in rows]) == []
        with session_scope(database_url) as session:
            assert knowledge.count_items(session) == 2, "a check writes nothing"
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        assert await page.evaluate("document.documentElement.scrollWidth") <= TABLET[0]
        await page.screenshot(path=str(SCREENSHOTS / "console-catalog-import.png"), full_page=True)

        await page.get_by_role("button", name="导入通过检查的 1 项").click()
        await page.wait_for_url("**/admin/catalog/import/run")
        assert "新增 1" in await page.locator("#import-result").inner_text()
        history = await page.locator("#history tbody tr").all_inner_texts()
        assert "wu\tconsole/new_courses.csv\t1\t0\t0\t0\t2" in history[0]
    assert _found("beekeeping")[:1] == ["lc-bees"]


async def test_an_editor_previews_and_saves_a_guidance_text(served_editor) -> None:
    base_url, _ = served_editor
    async with browser_page("en-GB", *TABLET) as page:
        await log_in_with(page, base_url, "wu", "Staff name", "Password")
        await page.get_by_role("link", name="Newcomer guidance").first.click()
        await page.get_by_role("link", name="Foreign qualifications").click()
        await page.locator("#text_ar").fill("أحضر شهادتك الأصلية إلى مركز شينغانغ.")
        await page.get_by_label("Preview in").select_option("ar")
        await page.get_by_role("button", name="Preview").click()
        preview = page.locator("#guidance-preview")
        assert await preview.get_attribute("dir") == "rtl"
        assert "مركز شينغانغ" in await preview.inner_text()
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        assert await page.evaluate("document.documentElement.scrollWidth") <= TABLET[0]
        await page.screenshot(path=str(SCREENSHOTS / "console-guidance.png"), full_page=True)
        await page.get_by_role("button", name="Save all languages").click()
        await page.wait_for_url("**/admin/guidance?step=qualifications&saved=1")
    step = newcomer_guidance.find_step("qualifications", None)
    assert step is not None and step.text_in("ar") == "أحضر شهادتك الأصلية إلى مركز شينغانغ."


async def test_an_admin_reads_the_health_page(served_editor) -> None:
    base_url, _ = served_editor
    logs = get_settings().data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "action-server.log").write_text(
        "2026-12-01 08:00:05,200 ERROR actions.base: search failed: database is locked\n",
        encoding="utf-8",
    )
    async with browser_page("en-GB", *LAPTOP) as page:
        await log_in_with(page, base_url, "mei", "Staff name", "Password")
        await page.get_by_role("link", name="Health").first.click()
        rows = await page.locator("#last-errors tbody tr").all_inner_texts()
        assert any("database is locked" in row for row in rows)
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(path=str(SCREENSHOTS / "console-health.png"), full_page=True)
