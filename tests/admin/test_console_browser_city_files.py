"""In real Chromium: an editor uploads the Buenos Aires libraries file with its column map,
sees how each column was understood, imports it and finds a library in the catalog; a Chinese
editor checks the same file as a Spanish Excel saves it under a title row and reads what the
importer decided in Chinese; the screenshots in docs/console.md."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.admin.browser_support import LOW_CONTRAST_TEXT, SCREENSHOTS, browser_page, log_in_with
from tests.admin.test_console_browser_editors import served_editor  # noqa: F401 (fixture)

CITY = Path(__file__).parents[1] / "knowledge" / "data" / "buenos_aires"
LAPTOP = (1280, 800)


async def test_an_editor_imports_a_city_file_with_its_column_map(served_editor) -> None:  # noqa: F811
    base_url, _ = served_editor
    async with browser_page("en-GB", *LAPTOP) as page:
        await log_in_with(page, base_url, "wu", "Staff name", "Password")
        await page.goto(f"{base_url}/admin/catalog/import")
        await page.get_by_label("Catalog file").set_input_files(str(CITY / "bibliotecas.csv"))
        await page.get_by_label("Column map (optional)").set_input_files(str(CITY / "columns.yml"))
        await page.get_by_label("Encoding").select_option("")
        await page.get_by_label("Dates").select_option("dmy")
        await page.get_by_role("button", name="Check the file (nothing is written)").click()
        await page.wait_for_url("**/admin/catalog/import/check")

        rows = await page.locator(".columns-understood tbody tr").all_inner_texts()
        understood = {tuple(row.split("\t")[:2]) for row in rows}
        assert {("fna", "name"), ("dir", "address"), ("tip", "kept in extra")} <= understood
        assert "dates day first" in await page.locator("#check-reading").inner_text()
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        assert await page.evaluate("document.documentElement.scrollWidth") <= LAPTOP[0]
        await page.screenshot(
            path=str(SCREENSHOTS / "console-catalog-import-city.png"), full_page=True
        )

        await page.get_by_role("button", name="Import the 20 items that passed").click()
        await page.wait_for_url("**/admin/catalog/import/run")
        assert "20 added" in await page.locator("#import-result").inner_text()
        await page.goto(f"{base_url}/admin/catalog?q=Alfonsina Storni")
        assert await page.get_by_text("Biblioteca Pública Alfonsina Storni").count() >= 1


async def test_a_chinese_editor_reads_what_the_check_decided(served_editor, tmp_path: Path) -> None:  # noqa: F811
    base_url, _ = served_editor
    rows = list(csv.reader(io.StringIO((CITY / "bibliotecas.csv").read_text(encoding="utf-8"))))
    exported = io.StringIO()  # Excel "CSV (;)" in Windows-1252, a report title above the table
    csv.writer(exported, delimiter=";", lineterminator="\r\n").writerows(
        [["Bibliotecas públicas de la Ciudad"], *rows]
    )
    upload = tmp_path / "bibliotecas.csv"
    upload.write_bytes(exported.getvalue().encode("cp1252"))
    async with browser_page("zh-CN", *LAPTOP) as page:
        await log_in_with(page, base_url, "wu", "工作人员账号", "密码")
        await page.goto(f"{base_url}/admin/catalog/import")
        await page.get_by_label("目录文件").set_input_files(str(upload))
        await page.get_by_label("列映射（可选）").set_input_files(str(CITY / "columns.yml"))
        await page.get_by_role("button", name="检查文件（不写入）").click()
        await page.wait_for_url("**/admin/catalog/import/check")

        notices = [
            tuple(row.split("\t"))
            for row in await page.locator("#notices tbody tr").all_inner_texts()
        ]
        assert [notice[2] for notice in notices] == ["（编码）", "（分隔符）", "（表头）"]
        assert notices[0][3].startswith("按 Windows-1252 读取")
        assert notices[2] == (
            "bibliotecas.csv",
            "第 2 行",
            "（表头）",
            "这一行是表头：其上的 1 行已跳过",
        )
        assert "20" in await page.locator("#check-summary").inner_text()
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        assert await page.evaluate("document.documentElement.scrollWidth") <= LAPTOP[0]
        await page.screenshot(
            path=str(SCREENSHOTS / "console-catalog-import-notices.png"), full_page=True
        )
