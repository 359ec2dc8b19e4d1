"""An organizer in real Chromium schedules an announcement a few seconds ahead, watches its
progress page count it live (no reload) and the broadcast worker deliver it to a chat on the
Telegram Bot API stand-in and to a web chat page open in another tab."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import citizens
from bot.broadcast_worker import start_in_thread
from core.database import session_scope
from core.settings import Settings
from knowledge.city import load_city
from tests.admin.browser_support import (
    LOW_CONTRAST_TEXT,
    SCREENSHOTS,
    browser_page,
    open_announcements_as,
    require_chromium,
    served,
)
from tests.admin.console_support import console_app
from tests.fakes.telegram_api import FakeTelegramApi

PROGRESS_SCREENSHOT = SCREENSHOTS / "console-announce-progress.png"
PAST_SCREENSHOT = SCREENSHOTS / "console-announcements.png"
TOKEN = "4242:BROWSER-test"


async def test_an_organizer_schedules_an_announcement_and_watches_it_delivered(
    tmp_path: Path,
) -> None:
    require_chromium()
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    app, conversation = console_app(database_url, {"ana": "organizer"})
    with session_scope(database_url) as session:
        for sender, language in (("telegram:77", "zh"), ("web:browser-reader", "en")):
            citizens.subscribe_events(session, sender, topic="calligraphy", consent=True)
            citizens.set_language(session, sender, language)
    city_now = datetime.now(ZoneInfo(load_city().time_zone))
    send_at = (city_now + timedelta(seconds=6)).strftime("%Y-%m-%dT%H:%M:%S")

    with FakeTelegramApi(token=TOKEN) as telegram, served(app) as base_url:
        settings = Settings(
            database_url=database_url,
            telegram_bot_token=TOKEN,
            telegram_api_base_url=telegram.base_url,
        )
        stop_worker = start_in_thread(settings)
        try:
            async with browser_page("en-GB", 1024, 900) as page:
                csp_complaints = await open_announcements_as(page, base_url, "ana")
                await page.get_by_label("Topic (empty: every subscriber)").fill("calligraphy")
                await page.get_by_label("中文").fill("周六书法工作坊")
                await page.get_by_label("English").fill("Calligraphy workshop on Saturday")
                await page.get_by_label("Send at (city time)").fill(send_at)
                await page.get_by_role("button", name="Preview recipients").click()
                await page.get_by_role("button", name="Send to 2").click()
                await page.wait_for_url("**/admin/announce/progress?id=*")
                assert await page.locator("#status").inner_text() == "scheduled"

                web_chat = await page.context.new_page()
                await web_chat.add_init_script(
                    "sessionStorage.setItem('learncity-session', 'browser-reader')"
                )
                await web_chat.goto(f"{base_url}/?poll=1")

                # The progress page updates itself: no reload, no navigation.
                await page.locator("#status[data-status='done']").wait_for(timeout=60_000)
                delivered = await page.locator("#delivered").inner_text()
                left = await page.locator("#left").inner_text()
                announcement = web_chat.locator(".msg.announcement")
                await announcement.wait_for(timeout=30_000)
                web_text = await announcement.inner_text()
                await page.screenshot(path=str(PROGRESS_SCREENSHOT), full_page=True)
                await page.get_by_role("link", name="Past announcements").first.click()
                listed = await page.locator("#announcements tbody tr").count()
                low_contrast = await page.evaluate(LOW_CONTRAST_TEXT)
                await page.screenshot(path=str(PAST_SCREENSHOT), full_page=True)
        finally:
            stop_worker()
            await conversation.close()
        telegram_texts = [call.params["text"] for call in telegram.sent_to(77)]

    assert (delivered, left) == ("2", "0")
    assert telegram_texts == ["周六书法工作坊"]
    assert "Calligraphy workshop on Saturday" in web_text
    assert listed == 1
    assert low_contrast == []
    assert PAST_SCREENSHOT.stat().st_size > 10_000
    assert not [text for text in csp_complaints if "Content Security Policy" in text]
    assert PROGRESS_SCREENSHOT.stat().st_size > 10_000
