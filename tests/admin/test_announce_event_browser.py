"""An organizer in real Chromium finds an upcoming event, chooses it (the texts are filled in and
the recipients counted), schedules the announcement and cancels it before its time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from bot.broadcast_jobs import AnnouncementRow
from core.database import session_scope
from tests.admin.browser_support import (
    LOW_CONTRAST_TEXT,
    SCREENSHOTS,
    browser_page,
    open_announcements_as,
    require_chromium,
    served,
)
from tests.admin.console_support import console_app
from tests.admin.test_announce_events import CITY, _seed

EVENT_SCREENSHOT = SCREENSHOTS / "console-announce-event.png"
CANCELLED_SCREENSHOT = SCREENSHOTS / "console-announce-cancelled.png"


async def test_an_organizer_announces_an_event_schedules_it_and_cancels_it(
    tmp_path: Path,
) -> None:
    require_chromium()
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    app, conversation = console_app(database_url, {"ana": "organizer"})
    _seed(database_url)
    send_at = (datetime.now(CITY) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")

    with served(app) as base_url:
        try:
            async with browser_page("en-GB", 1024, 900) as page:
                complaints = await open_announcements_as(page, base_url, "ana")
                await page.get_by_label("Find an upcoming event").fill("pottery")
                await page.get_by_role("button", name="Find", exact=True).click()
                await page.get_by_label("Upcoming events").select_option("evt-pottery")
                await page.get_by_role("button", name="Use this event").click()
                matched = await page.locator("#matched").inner_text()
                english = await page.get_by_label("English").input_value()
                topic = await page.get_by_label("Topic (empty: every subscriber)").input_value()
                await page.get_by_label("English").fill(english + "\nBring an apron.")
                await page.get_by_label("Send at (city time)").fill(send_at)
                low_contrast = await page.evaluate(LOW_CONTRAST_TEXT)
                await page.screenshot(path=str(EVENT_SCREENSHOT), full_page=True)
                await page.get_by_role("button", name="Send to 3").click()
                await page.wait_for_url("**/admin/announce/progress?id=*")
                scheduled = await page.locator("#status").inner_text()
                event_line = await page.locator("#event").inner_text()
                await page.get_by_role("button", name="Cancel this announcement").click()
                await page.locator("#cancel-outcome").wait_for()
                status = await page.locator("#status").inner_text()
                cancel_buttons = await page.locator("#cancel-form").count()
                low_contrast += await page.evaluate(LOW_CONTRAST_TEXT)
                await page.screenshot(path=str(CANCELLED_SCREENSHOT), full_page=True)
        finally:
            await conversation.close()

    assert (matched, topic) == ("3", "pottery, ceramics")
    assert english.startswith("Pottery fair\nWhen: ") and "Nanhu Community Centre" in english
    assert (scheduled, status, cancel_buttons) == ("scheduled", "cancelled", 0)
    assert "Pottery fair" in event_line
    with session_scope(database_url) as session:
        row = session.query(AnnouncementRow).one()
        assert (row.status, row.event_id) == ("cancelled", "evt-pottery")
        texts = json.loads(row.texts)
    assert texts["en"].endswith("\nBring an apron.") and len(texts) == 7
    assert low_contrast == []
    assert not [text for text in complaints if "Content Security Policy" in text]
    assert EVENT_SCREENSHOT.stat().st_size > 10_000
    assert CANCELLED_SCREENSHOT.stat().st_size > 10_000
