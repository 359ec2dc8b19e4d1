"""The console in real Chromium: log in with the keyboard, see the home page and the planner's
dashboard on a tablet, and take the screenshots in docs/."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

import citizens
import knowledge
import staff
from bot.stack import free_port
from core.database import session_scope
from core.settings import REPOSITORY_ROOT
from tests.admin.console_support import PASSWORD, console_app
from tests.bot.test_webchat import CHROMIUM, CHROMIUM_ARGS

SCREENSHOT = REPOSITORY_ROOT / "docs" / "console.png"
PLANNER_SCREENSHOT = REPOSITORY_ROOT / "docs" / "console-planner.png"
ANNOUNCE_SCREENSHOT = REPOSITORY_ROOT / "docs" / "console-announce.png"
# WCAG 2 contrast of every element that holds text, against the first opaque background up
# its ancestors; lists those under 4.5:1 (an empty list when all pass).
LOW_CONTRAST_TEXT = """() => {
  const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const color = rgb(getComputedStyle(node).backgroundColor);
      if (color.length < 4 || color[3] > 0) return color.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || element.closest("svg") || !element.getClientRects().length) continue;
    const style = getComputedStyle(element);
    const [a, b] = [luminance(rgb(style.color).slice(0, 3)), luminance(background(element))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${element.tagName} "${element.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return low;
}"""
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
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}", database_url
    server.should_exit = True
    thread.join(timeout=10)


async def test_an_admin_logs_in_with_the_keyboard_and_sees_the_home_page(
    served_console: tuple[str, str],
) -> None:
    base_url, _ = served_console
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (the Makefile installs Debian's chromium); test skipped"
        print(f"\nSKIP: {reason}")
        pytest.skip(reason)
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

        await page.get_by_role("link", name="中文").click()
        assert await page.get_by_role("heading", level=1).inner_text() == "欢迎，mei"
        await page.get_by_role("link", name="操作日志").click()
        rows = await page.locator("tbody tr td:nth-child(3)").all_inner_texts()
        assert rows[:2] == ["login", "login_failed"]
        await page.get_by_role("button", name="退出登录").click()
        await page.wait_for_url("**/admin/login")
        await browser.close()
    assert SCREENSHOT.stat().st_size > 10_000


async def test_a_planner_reads_the_dashboard_on_a_tablet(served_console: tuple[str, str]) -> None:
    base_url, database_url = served_console
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; browser test skipped")
    from playwright.async_api import async_playwright

    with session_scope(database_url) as session:
        for number, (topic, district, language) in enumerate(SEEDED_NEEDS):
            need = citizens.LearningNeed(topic=topic, district=district, language=language)
            citizens.register_learning_need(session, f"web:{number}", need, consent=True)
        for query, language in (("beekeeping", "en"), ("潜水", "zh"), ("beekeeping", "en")):
            knowledge.record_unmet_demand(session, query, language, {}, None)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(locale="zh-CN", viewport={"width": 768, "height": 1024})
        page = await context.new_page()
        await page.goto(f"{base_url}/admin/login")
        await page.get_by_label("工作人员账号").fill("li")
        await page.get_by_label("密码").fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url("**/admin/")
        await page.get_by_role("link", name="学习需求看板").first.click()
        await page.wait_for_url("**/admin/planner")

        assert await page.locator("#needs-total").inner_text() == str(len(SEEDED_NEEDS))
        chart = page.get_by_role("img", name="学习需求（按主题）")
        assert await chart.locator("rect").count() == 3
        assert await page.evaluate(LOW_CONTRAST_TEXT) == []
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 768, "no sideways scrolling on a tablet"
        await page.screenshot(path=str(PLANNER_SCREENSHOT), full_page=True)
        await browser.close()
    assert PLANNER_SCREENSHOT.stat().st_size > 10_000


async def test_an_organizer_previews_an_announcement(served_console: tuple[str, str]) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; browser test skipped")
    from playwright.async_api import async_playwright

    base_url, database_url = served_console
    with session_scope(database_url) as session:
        staff.add_staff(session, "ana", "organizer", PASSWORD)
        for sender, language in (("telegram:7", "zh"), ("web:b2", "en"), ("wechat:oY", "zh")):
            citizens.subscribe_events(session, sender, topic="calligraphy", consent=True)
            citizens.set_language(session, sender, language)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(locale="en-GB", viewport={"width": 1024, "height": 800})
        page = await context.new_page()
        await page.goto(f"{base_url}/admin/login")
        await page.get_by_label("Staff name").fill("ana")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/admin/")
        await page.get_by_role("link", name="Announcements").click()
        await page.get_by_label("Topic (empty: every subscriber)").fill("Calligraphy workshop")
        await page.get_by_label("中文").fill("周六书法工作坊")
        await page.get_by_label("English").fill("Calligraphy workshop on Saturday")
        await page.get_by_role("button", name="Preview recipients").click()
        await page.wait_for_url("**/admin/announce/preview")

        assert await page.locator("#matched").inner_text() == "3"
        assert await page.locator("#would-send").inner_text() == "3"
        await page.screenshot(path=str(ANNOUNCE_SCREENSHOT), full_page=True)
        await browser.close()
    assert ANNOUNCE_SCREENSHOT.stat().st_size > 10_000
