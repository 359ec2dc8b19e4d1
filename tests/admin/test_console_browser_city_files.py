"""In real Chromium: an editor uploads the Buenos Aires libraries file with its column map,
sees how each column was understood, imports it and finds a library in the catalog; the
screenshot in docs/console.md."""

from __future__ import annotations

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
