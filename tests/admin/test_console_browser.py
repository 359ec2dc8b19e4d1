"""The console in real Chromium: log in with the keyboard, see the home page, take the screenshot."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from bot.stack import free_port
from core.settings import REPOSITORY_ROOT
from tests.admin.console_support import PASSWORD, console_app
from tests.bot.test_webchat import CHROMIUM, CHROMIUM_ARGS

SCREENSHOT = REPOSITORY_ROOT / "docs" / "console.png"


@pytest.fixture
def served_console(tmp_path: Path) -> Iterator[str]:
    """The gateway on a real port and a real SQLite file, with one admin and one planner."""
    app, _ = console_app(f"sqlite:///{tmp_path / 'console.db'}", {"mei": "admin", "li": "planner"})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def test_an_admin_logs_in_with_the_keyboard_and_sees_the_home_page(
    served_console: str,
) -> None:
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
        await page.goto(f"{served_console}/admin/")

        assert page.url.endswith("/admin/login"), "a stranger is sent to the login page"
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
