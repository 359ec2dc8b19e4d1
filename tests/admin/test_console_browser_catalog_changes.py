"""A catalog editor in real Chromium changes when a course takes place and removes another
(after the confirmation page); search sees both at once. Keyboard labels and contrast checked;
screenshots in docs/."""

from __future__ import annotations

import knowledge
from core.database import session_scope
from knowledge.search import SearchFilters
from tests.admin.browser_support import LOW_CONTRAST_TEXT, SCREENSHOTS, browser_page, log_in_with
from tests.admin.test_console_browser_editors import LAPTOP, TABLET, served_editor  # noqa: F401

WEEKEND = SearchFilters(time_of_day="weekend")


def _found(query: str, filters: SearchFilters | None = None) -> list[str]:
    return [r.item.id for r in knowledge.search(query, limit=3, filters=filters) if r.matched]


async def test_an_editor_moves_a_course_to_the_weekend_and_search_finds_it_there(
    served_editor,  # noqa: F811
) -> None:
    base_url, database_url = served_editor
    assert "lc-yoga" not in _found("yoga", WEEKEND)
    async with browser_page("en-GB", *LAPTOP) as page:
        await log_in_with(page, base_url, "wu", "Staff name", "Password")
        await page.goto(f"{base_url}/admin/catalog/item?id=lc-yoga")
        await page.get_by_role("link", name="Change when it takes place").click()
        first = page.locator("#session-1")
        assert await first.get_by_label("Days", exact=True).input_value() == "Tu"
        await first.get_by_label("Remove this session").check()
        added = page.locator("#session-2")
        await added.get_by_label("Days", exact=True).fill("Sa")
        await added.get_by_label("Starts at (HH:MM)").fill("09:00")
        await added.get_by_label("Ends at (HH:MM)").fill("10:30")
        await page.get_by_role("button", name="Save the sessions").click()
        await page.get_by_role("status").wait_for()
        assert (
            await page.locator("#session-1").get_by_label("Days", exact=True).input_value() == "Sa"
        )
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(
            path=str(SCREENSHOTS / "console-catalog-sessions.png"), full_page=True
        )
    assert _found("yoga", WEEKEND)[:1] == ["lc-yoga"]
    with session_scope(database_url) as session:
        item = knowledge.get_item(session, "lc-yoga")
    assert item is not None and item.schedule_text() == "Sat 09:00-10:30"


async def test_an_editor_removes_an_item_after_confirming_and_search_loses_it(
    served_editor,  # noqa: F811
) -> None:
    base_url, database_url = served_editor
    assert _found("erhu")[:1] == ["lc-erhu"]
    async with browser_page("zh-CN", *TABLET) as page:
        await log_in_with(page, base_url, "wu", "工作人员账号", "密码")
        await page.goto(f"{base_url}/admin/catalog/item?id=lc-erhu")
        await page.get_by_role("link", name="删除此项").click()
        await page.get_by_role("heading", name="从目录中删除“Erhu lessons”？").wait_for()
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(path=str(SCREENSHOTS / "console-catalog-remove.png"), full_page=True)
        await page.get_by_role("link", name="不，保留").click()
        await page.wait_for_url("**/admin/catalog/item?id=lc-erhu")
        assert _found("erhu")[:1] == ["lc-erhu"], "cancelling removes nothing"
        await page.get_by_role("link", name="删除此项").click()
        await page.get_by_role("button", name="是的，删除").click()
        notice = page.locator("p.notice[role=status]")
        await notice.wait_for()
        assert await notice.inner_text() == "“Erhu lessons”已从目录中删除。"
        rows = await page.locator("tbody tr").all_inner_texts()
        assert [row.split("\t")[0] for row in rows] == ["Morning yoga"]
    assert "lc-erhu" not in _found("erhu")
    with session_scope(database_url) as session:
        assert knowledge.get_item(session, "lc-erhu") is None
