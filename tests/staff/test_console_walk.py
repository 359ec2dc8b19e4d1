"""Every console page walked in real Chromium as each role would: English, Chinese and an
Arabic browser (the console answers it in English), on a 390-pixel phone and a laptop.
No page scrolls sideways, none answers an error or shows a "{placeholder}" of its words,
and the Chinese pages show no English sentence of the console's own."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import staff
from bot.broadcast_jobs import submit
from bot.broadcasts import Announcement
from core.database import session_scope
from tests.admin.browser_support import browser_page, log_in_with
from tests.admin.console_support import PASSWORD
from tests.admin.test_console_accessibility import (
    LOGIN_LABELS,
    SMALL_OR_CUT_CHART_TEXT,
    _pages,
    _seed,
)
from tests.admin.test_console_browser_editors import LAPTOP, served_editor  # noqa: F401

PHONE = (390, 844)
LOCALES = ("en-GB", "zh-CN", "ar-EG")
LABELS = LOGIN_LABELS | {"ar-EG": LOGIN_LABELS["en-GB"]}
ROLES = ("planner", "organizer", "editor", "helpdesk", "admin")
SHOTS = (
    Path(os.environ.get("CONSOLE_WALK_SHOTS", "")) if os.environ.get("CONSOLE_WALK_SHOTS") else None
)
# The parts of a page wider than the window: tag, id or class, and how far they stick out.
WIDER_THAN_WINDOW = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getClientRects().length && !e.closest('.table-wrap, pre, svg'))
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([, r]) => r.right > 0 && (r.right > window.innerWidth + 1 || r.left < -1))
  .map(([e, r]) => `${e.tagName}#${e.id || e.className} ${Math.round(r.left)}..${Math.round(r.right)}`)
  .slice(0, 5)"""
# The page's own words: not code, and not what staff or the catalog wrote in another language.
CONSOLE_OWN_TEXT = """() => { const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('code, pre, textarea, [lang]:not([lang^=zh]), .log-line').forEach((e) => e.remove());
  return main.innerText; }"""
SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")  # a worded text shown without its value
_LATIN_WORDS = re.compile(r"[A-Za-z]{4,}(?: [A-Za-z]{3,}){2,}")


async def test_each_role_walks_every_page_on_a_phone_and_a_laptop(served_editor) -> None:  # noqa: F811
    base_url, database_url = served_editor
    ids = _seed(database_url)
    with session_scope(database_url) as session:
        # A scheduled announcement with a long unbroken Chinese text, for the past-announcements
        # table (it once had no scrolling wrapper) and its progress page.
        long_text = "适合老年人的智能手机使用入门课程和网上挂号" * 4
        announcement = Announcement(texts={"zh": long_text, "en": "Smartphones for seniors"})
        ids["announcement"] = str(
            submit(session, announcement, send_at=datetime.now(UTC) + timedelta(days=1))
        )
        for role in ROLES:
            if role != "admin":
                staff.add_staff(session, f"as-{role}", role, PASSWORD)
    pages = _pages(database_url, ids)
    problems: dict[str, object] = {}
    for role in ROLES:
        name = "mei" if role == "admin" else f"as-{role}"
        for locale in LOCALES:
            for width, height in (PHONE, LAPTOP):
                async with browser_page(locale, width, height) as page:
                    errors: list[str] = []
                    page.on("pageerror", lambda error, seen=errors: seen.append(str(error)))
                    await log_in_with(page, base_url, name, *LABELS[locale])
                    for path in pages:
                        response = await page.goto(base_url + path)
                        status = response.status if response else 0
                        if status == 403:
                            continue  # not this role's page (tests/admin checks the refusal)
                        where = f"{role} {locale} {width} {path}"
                        if status != 200:
                            problems[where] = status
                            continue
                        sideways = await page.evaluate(SIDEWAYS)
                        if sideways > 0:
                            problems[where] = (sideways, await page.evaluate(WIDER_THAN_WINDOW))
                        unfilled = _PLACEHOLDER.findall(await page.locator("main").inner_text())
                        if unfilled:
                            problems[where + " placeholder"] = unfilled[:3]
                        small = await page.evaluate(SMALL_OR_CUT_CHART_TEXT)
                        if small:
                            problems[where + " chart text"] = small[:3]
                        if locale == "zh-CN":
                            text = await page.evaluate(CONSOLE_OWN_TEXT)
                            english = _LATIN_WORDS.findall(text)
                            if english:
                                problems[where + " english"] = english[:3]
                        if SHOTS and role == "admin":
                            slug = path.strip("/").replace("/", "-") or "home"
                            await page.screenshot(
                                path=str(SHOTS / f"{locale[:2]}-{width}-{slug}.png"),
                                full_page=True,
                            )
                    if errors:
                        problems[f"{role} {locale} {width} script"] = errors
    if SHOTS:
        (SHOTS / "problems.txt").write_text("\n".join(f"{k}: {v}" for k, v in problems.items()))
    assert problems == {}
