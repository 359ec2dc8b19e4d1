"""Shared helpers for the console's browser tests: the gateway on a real port, real Chromium
(Debian's, through Playwright), logging in, and a WCAG contrast check."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from bot.stack import free_port
from tests import services
from tests.admin.console_support import PASSWORD
from tests.bot.test_webchat import CHROMIUM, CHROMIUM_ARGS

if TYPE_CHECKING:
    from playwright.async_api import Page

# WCAG 2 colour helpers, for scripts run in the page: `contrast(colour, colour)` of two CSS
# colours, `background(element)` the first opaque background up its ancestors.
COLOUR_JS = """
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
  const contrast = (one, other) => {
    const [a, b] = [luminance(one.slice(0, 3)), luminance(other.slice(0, 3))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
"""

# WCAG 2 contrast of every element that holds text, against the first opaque background up
# its ancestors; lists those under 4.5:1 (an empty list when all pass).
LOW_CONTRAST_TEXT = (
    "() => {"
    + COLOUR_JS
    + """
  const low = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || element.closest("svg") || !element.getClientRects().length) continue;
    const ratio = contrast(rgb(getComputedStyle(element).color), background(element));
    if (ratio < 4.5) low.push(`${element.tagName} "${element.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return low;
}"""
)


@contextmanager
def served(app: object) -> Iterator[str]:
    """`app` served by uvicorn on a free port in a thread; yields its address."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def require_chromium() -> None:
    """Fail (saying how to install it) when Debian's chromium is missing: a skip is no pass."""
    services.require_chromium()


@asynccontextmanager
async def browser_page(locale: str, width: int, height: int) -> AsyncIterator[Page]:
    """A fresh Chromium page with this locale and viewport (laptop 1280x800, tablet 768x1024)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(
            locale=locale, viewport={"width": width, "height": height}, accept_downloads=True
        )
        try:
            yield await context.new_page()
        finally:
            await browser.close()


async def log_in_with(
    page: Page, base_url: str, name: str, name_label: str, password_label: str
) -> None:
    """Log in through the form as a person does, and wait for the home page."""
    await page.goto(f"{base_url}/admin/login")
    await page.get_by_label(name_label).fill(name)
    await page.get_by_label(password_label).fill(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/admin/")


async def open_announcements_as(page: Page, base_url: str, name: str) -> list[str]:
    """Log `name` in (English labels) and open Announcements; returns the list the page's
    console messages go into, for the tests that check no Content Security Policy complaint."""
    console_messages: list[str] = []
    page.on("console", lambda message: console_messages.append(message.text))
    await log_in_with(page, base_url, name, "Staff name", "Password")
    await page.get_by_role("link", name="Announcements").click()
    return console_messages


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs"
