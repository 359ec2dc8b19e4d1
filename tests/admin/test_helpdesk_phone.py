"""The help desk's Claim button in real Chromium on a 390-pixel phone and a 1280-pixel laptop,
in English and Chinese: staff see it beside each waiting chat without scrolling sideways, it is
a touch target of at least 44 px, and it claims the chat. Checked on the page as served and
after the page's own script redrew the queue (bot/admin/static/helpdesk.js)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.admin.helpdesk_words import HELPDESK_WORDS
from tests.admin.browser_support import SCREENSHOTS, browser_page, log_in_with, served
from tests.admin.console_support import console_app
from tests.admin.test_console_accessibility import LOGIN_LABELS
from tests.helpdesk.support import ask_for_person
from tests.services import require_chromium

PHONE = (390, 844)
LAPTOP = (1280, 800)
# Where each Claim button is and whether the reader can touch it where it is drawn, once the
# page is scrolled down to it (never sideways): inside the window, inside its table box as that
# box shows it unscrolled, and on top at its centre.
CLAIM_BUTTONS = """() => [...document.querySelectorAll('#queue-rows button')].map((button) => {
  const below = button.getBoundingClientRect().top + window.scrollY;
  window.scrollTo(0, below - window.innerHeight / 2);
  button.closest('.table-wrap').scrollLeft = 0;
  const box = button.getBoundingClientRect();
  const wrap = button.closest('.table-wrap').getBoundingClientRect();
  const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return {
    label: button.getAttribute('aria-label'),
    width: Math.round(box.width), height: Math.round(box.height),
    in_window: box.left >= 0 && box.right <= window.innerWidth,
    in_table_box: box.left >= wrap.left && box.right <= wrap.right,
    on_top: top !== null && button.contains(top),
  };
})"""
SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"
# The page's buttons and fields under 44 px high or not inside the window: [text, height].
SMALL_OR_OUTSIDE = """() => [...document.querySelectorAll('main button, main select, main textarea')]
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([, r]) => r.height < 44 || r.left < 0 || r.right > window.innerWidth)
  .map(([e, r]) => [e.textContent.trim().slice(0, 20), Math.round(r.height)])"""
# A long last turn, as a citizen writes it, makes the queue's table as wide as it gets.
LONG_TURN = "我想给我八十岁的母亲找一门周末上午在家附近的免费智能手机入门课程，她只会说普通话"


@pytest.fixture
def waiting_desk(tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """The gateway on a real port with a help-desk member, a colleague, two citizens waiting
    after a long turn and one who asked for a person at once."""
    require_chromium()
    database_url = f"sqlite:///{tmp_path / 'desk.db'}"
    app, _ = console_app(database_url, {"desk": "helpdesk", "colleague": "helpdesk"})
    context = [{"who": "citizen", "text": LONG_TURN}, {"who": "bot", "text": LONG_TURN}]
    tickets = [
        ask_for_person(database_url, f"web:phone-{n}", language="zh", context=context)
        for n in range(2)
    ]
    tickets.append(ask_for_person(database_url, "web:at-once", language="zh"))
    with served(app) as base_url:
        yield base_url, [ticket.chat_id for ticket in tickets]


async def _claim_buttons(page: object, redrawn: bool) -> list[dict[str, object]]:
    """The Claim buttons as served, or after the page's script has redrawn the queue."""
    if redrawn:  # the served rows carry a mark; the script's rows do not
        await page.evaluate(  # type: ignore[attr-defined]
            "() => document.querySelectorAll('#queue-rows tr').forEach((r) => r.dataset.served = 1)"
        )
        await page.wait_for_function(  # type: ignore[attr-defined]
            "() => !document.querySelector('#queue-rows tr[data-served]')"
        )
    return await page.evaluate(CLAIM_BUTTONS)  # type: ignore[attr-defined]


async def test_claim_is_in_reach_on_a_phone_and_a_laptop_in_english_and_chinese(
    waiting_desk,
) -> None:
    base_url, chat_ids = waiting_desk
    problems: dict[str, object] = {}
    for locale in ("en-GB", "zh-CN"):
        for width, height in (PHONE, LAPTOP):
            async with browser_page(locale, width, height) as page:
                await log_in_with(page, base_url, "desk", *LOGIN_LABELS[locale])
                await page.goto(f"{base_url}/admin/helpdesk")
                for redrawn in (False, True):
                    where = f"{locale} {width} {'redrawn' if redrawn else 'served'}"
                    buttons = await _claim_buttons(page, redrawn)
                    labels = [button["label"] for button in buttons]
                    expected = [
                        f"{HELPDESK_WORDS[locale[:2]]['claim']} {chat_id}" for chat_id in chat_ids
                    ]
                    if sorted(labels) != sorted(expected):
                        problems[where + " labels"] = labels
                    for button in buttons:
                        out_of_reach = {
                            key: button[key]
                            for key in ("in_window", "in_table_box", "on_top")
                            if not button[key]
                        }
                        if out_of_reach or button["width"] < 44 or button["height"] < 44:
                            problems[f"{where} {button['label']}"] = button
                    sideways = await page.evaluate(SIDEWAYS)
                    if sideways > 0:
                        problems[where + " sideways"] = sideways
                if width == PHONE[0] and locale == "zh-CN":
                    await page.screenshot(
                        path=str(SCREENSHOTS / "console-helpdesk-phone.png"), full_page=True
                    )
    assert problems == {}


async def test_a_phone_claims_the_first_waiting_chat_without_scrolling(waiting_desk) -> None:
    base_url, chat_ids = waiting_desk
    async with browser_page("zh-CN", *PHONE) as page:
        await log_in_with(page, base_url, "desk", *LOGIN_LABELS["zh-CN"])
        await page.goto(f"{base_url}/admin/helpdesk")
        button = page.get_by_role("button", name=f"{HELPDESK_WORDS['zh']['claim']} {chat_ids[0]}")
        box = await button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE[0]
        await button.click()
        await page.wait_for_url(f"**/admin/helpdesk/chat?id={chat_ids[0]}*")
        assert await page.evaluate("() => window.scrollX") == 0
        # The held chat's page: answer, transfer and end are all touch targets in the window.
        assert await page.evaluate(SMALL_OR_OUTSIDE) == []
        assert await page.evaluate(SIDEWAYS) <= 0
        await page.goto(f"{base_url}/admin/helpdesk/chat?id={chat_ids[2]}")
        context = await page.locator("#context-title + p").inner_text()
        assert context == HELPDESK_WORDS["zh"]["no_context"]
        assert await page.evaluate(SMALL_OR_OUTSIDE) == []
