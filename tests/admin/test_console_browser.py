"""The console in real Chromium: log in with the keyboard, see the home page and the planner's
dashboard on a tablet, and take the screenshots in docs/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine

import citizens
import knowledge
import staff
from bench.dashboard_seed import Conversation, write_conversations
from core.database import session_scope
from core.settings import REPOSITORY_ROOT
from tests.admin.browser_support import (
    LOW_CONTRAST_TEXT,
    SCREENSHOTS,
    browser_page,
    log_in_with,
    require_chromium,
    served,
)
from tests.admin.console_support import PASSWORD, console_app
from tests.bot.test_webchat import CHROMIUM, CHROMIUM_ARGS

SCREENSHOT = REPOSITORY_ROOT / "docs" / "console.png"
PLANNER_SCREENSHOT = REPOSITORY_ROOT / "docs" / "console-planner.png"
ANNOUNCE_SCREENSHOT = REPOSITORY_ROOT / "docs" / "console-announce.png"
SEEDED_UNMET = [
    ("beekeeping", "en"),
    ("潜水", "zh"),
    ("beekeeping", "en"),
    ("مكتبة", "ar"),
    ("libary", "en"),
]
SEEDED_NEEDS = [  # (topic, district, language)
    ("sign language", "Nanhu", "zh"),
    ("sign language", "Nanhu", "en"),
    ("古筝", "Dongcheng", "zh"),
    ("Python", "Xicheng", "zh"),
    ("sign language", "Beishan", "zh"),
]


@pytest.fixture
def served_console(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The gateway on a real port and a real SQLite file, with one admin and one planner:
    (its address, the database URL)."""
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    app, _ = console_app(database_url, {"mei": "admin", "li": "planner"})
    with served(app) as base_url:
        yield base_url, database_url


async def test_an_admin_logs_in_with_the_keyboard_and_sees_the_home_page(
    served_console: tuple[str, str],
) -> None:
    base_url, _ = served_console
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(locale="en-GB", viewport={"width": 1024, "height": 700})
        page = await context.new_page()
        blocked: list[str] = []
        page.on("console", lambda message: blocked.append(message.text))
        await page.goto(f"{base_url}/admin/")

        assert "/admin/login?next=" in page.url, "a stranger is sent to the login page"
        assert await page.evaluate("document.activeElement.id") == "name"
        await page.keyboard.type("mei")
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "password"
        await page.keyboard.type("not the password")
        await page.keyboard.press("Enter")
        await page.get_by_role("alert").wait_for()
        assert "do not match" in await page.get_by_role("alert").inner_text()
        assert await page.evaluate("document.activeElement.id") == "password"
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(path=str(SCREENSHOTS / "console-login.png"), full_page=True)

        await page.get_by_label("Password").fill(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/admin/")
        heading = await page.get_by_role("heading", level=1).inner_text()
        assert heading == "Welcome, mei"
        assert await page.get_by_role("link", name="Audit log").count() == 1
        font = await page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "system-ui" in font, "the console's stylesheet applied (the policy allowed it)"
        assert not [text for text in blocked if "Content Security Policy" in text], blocked
        low = await page.evaluate(LOW_CONTRAST_TEXT)
        assert low == [], "every piece of text has a contrast of at least 4.5:1"
        await page.screenshot(path=str(SCREENSHOT), full_page=True)
        await page.get_by_role("link", name="Staff accounts").first.click()
        await page.wait_for_url("**/admin/staff")
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(path=str(SCREENSHOTS / "console-staff.png"), full_page=True)
        await page.goto(f"{base_url}/admin/")

        await page.get_by_role("link", name="中文").click()
        assert await page.get_by_role("heading", level=1).inner_text() == "欢迎，mei"
        await page.get_by_role("link", name="操作日志").click()
        rows = await page.locator("tbody tr td:nth-child(3)").all_inner_texts()
        assert rows[:2] == ["登录", "登录失败"], "audit actions named in the console's language"
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(path=str(SCREENSHOTS / "console-audit.png"), full_page=True)
        await page.get_by_role("button", name="退出登录").click()
        await page.wait_for_url("**/admin/login")
        await browser.close()
    assert SCREENSHOT.stat().st_size > 10_000


async def test_a_planner_reads_the_dashboard_on_a_tablet(served_console: tuple[str, str]) -> None:
    base_url, database_url = served_console
    require_chromium()

    with session_scope(database_url) as session:
        for number, (topic, district, language) in enumerate(SEEDED_NEEDS):
            need = citizens.LearningNeed(topic=topic, district=district, language=language)
            citizens.register_learning_need(session, f"web:{number}", need, consent=True)
        for number, (query, language) in enumerate(SEEDED_UNMET):
            sender = f"web:unmet-{number}"  # five citizens: the open data counts them
            knowledge.record_unmet_demand(session, query, language, {}, None, sender)
    now = datetime.now(UTC)
    write_conversations(
        create_engine(database_url),
        [
            Conversation(f"telegram:{n}", now - timedelta(hours=n), turns=3, searches=2)
            for n in range(6)
        ],
    )

    async with browser_page("zh-CN", 768, 1024) as page:
        await log_in_with(page, base_url, "li", "工作人员账号", "密码")
        await page.get_by_role("link", name="学习需求看板").first.click()
        await page.wait_for_url("**/admin/planner")

        assert await page.locator("#needs-total").inner_text() == str(len(SEEDED_NEEDS))
        assert await page.locator("#citizens-total").inner_text() == "6"
        assert await page.locator("#conversations-total").inner_text() == "6"
        assert await page.locator("#searches-total").inner_text() == "12"
        # 12 searches, 5 unmet: 7 of 12 found something.
        assert await page.locator("#answered-share").inner_text() == "58%"
        chart = page.get_by_role("img", name="学习需求（按主题）")
        assert await chart.locator("rect").count() == 3
        hours = page.get_by_role("img", name="对话（按开始的钟点，本市时间）")
        assert await hours.locator("rect").count() >= 1
        groups = await page.locator("#unmet-groups tbody tr").all_inner_texts()
        # A glossary concept is named in the console's language; other questions as asked.
        assert [row.split("\t")[0] for row in groups] == ["图书馆", "beekeeping", "潜水"]
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 768, "no sideways scrolling on a tablet"
        await page.screenshot(path=str(PLANNER_SCREENSHOT), full_page=True)

        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="开放数据 CSV（少于 5 的计数不公开）").click()
        published = Path(await (await download_info.value).path()).read_text(encoding="utf-8")
        assert "conversations,total,citizens,6" in published
        assert "unmet,by_group,(fewer than 5 each),5" in published, "3 groups under 5: one row"
        assert "beekeeping" not in published and "telegram:" not in published

        await page.get_by_role("link", name="图书馆").click()
        await page.wait_for_url("**/admin/planner/unmet?group=concept%3Alibrary*")
        asked = await page.locator("#group-queries tbody tr").all_inner_texts()
        assert sorted(row.split("\t")[0] for row in asked) == ["libary", "مكتبة"]
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        await page.screenshot(
            path=str(SCREENSHOTS / "console-planner-drilldown.png"), full_page=True
        )
    assert PLANNER_SCREENSHOT.stat().st_size > 10_000


async def test_an_organizer_previews_an_announcement(served_console: tuple[str, str]) -> None:
    require_chromium()

    base_url, database_url = served_console
    with session_scope(database_url) as session:
        staff.add_staff(session, "ana", "organizer", PASSWORD)
        for sender, language in (("telegram:7", "zh"), ("web:b2", "en"), ("wechat:oY", "zh")):
            citizens.subscribe_events(session, sender, topic="calligraphy", consent=True)
            citizens.set_language(session, sender, language)

    async with browser_page("en-GB", 1024, 800) as page:
        await log_in_with(page, base_url, "ana", "Staff name", "Password")
        await page.get_by_role("link", name="Announcements").click()
        await page.get_by_label("Topic (empty: every subscriber)").fill("Calligraphy workshop")
        await page.get_by_label("中文").fill("周六书法工作坊")
        await page.get_by_label("English").fill("Calligraphy workshop on Saturday")
        await page.get_by_role("button", name="Preview recipients").click()
        await page.wait_for_url("**/admin/announce/preview")

        assert await page.locator("#matched").inner_text() == "3"
        assert await page.locator("#would-send").inner_text() == "3"
        await page.screenshot(path=str(ANNOUNCE_SCREENSHOT), full_page=True)
    assert ANNOUNCE_SCREENSHOT.stat().st_size > 10_000
