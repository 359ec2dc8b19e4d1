"""The progress page's messages per second, read in real Chromium while the broadcast worker
sends through the Telegram Bot API stand-in: above 0 while sending, the whole send's average
(also above 0) once it is done. It read 0 after every send before: the rate was counted only
while the state was `sending`, over a window the short send had already left."""

from __future__ import annotations

from pathlib import Path

import citizens
from bot.broadcast_worker import start_in_thread
from core.database import session_scope
from core.settings import Settings
from tests.admin.browser_support import browser_page, log_in_with, require_chromium, served
from tests.admin.console_support import console_app
from tests.fakes.telegram_api import FakeTelegramApi

TOKEN = "4242:RATE-test"
SUBSCRIBERS = 24
RATE = 6.0  # messages per second on Telegram: the send lasts about 4 s


async def test_the_progress_page_shows_the_sending_rate_and_then_its_average(
    tmp_path: Path,
) -> None:
    require_chromium()
    database_url = f"sqlite:///{tmp_path / 'rate.db'}"
    app, conversation = console_app(database_url, {"ana": "organizer"})
    with session_scope(database_url) as session:
        for number in range(SUBSCRIBERS):
            sender = f"telegram:{9000 + number}"
            citizens.subscribe_events(session, sender, topic="pottery", consent=True)
            citizens.set_language(session, sender, "en")

    with FakeTelegramApi(token=TOKEN) as telegram, served(app) as base_url:
        settings = Settings(
            database_url=database_url,
            telegram_bot_token=TOKEN,
            telegram_api_base_url=telegram.base_url,
            telegram_broadcast_rate=RATE,
        )
        stop_worker = start_in_thread(settings)
        try:
            async with browser_page("en-GB", 1024, 900) as page:
                await log_in_with(page, base_url, "ana", "Staff name", "Password")
                await page.goto(f"{base_url}/admin/announce")
                await page.get_by_label("Topic (empty: every subscriber)").fill("pottery")
                await page.get_by_label("English").fill("Pottery fair on Sunday")
                await page.get_by_role("button", name="Preview recipients").click()
                await page.get_by_role("button", name=f"Send to {SUBSCRIBERS}").click()
                await page.wait_for_url("**/admin/announce/progress?id=*")
                # Read by the page's own script while the worker is still sending.
                await page.wait_for_function(
                    "() => document.querySelector('#status').dataset.status === 'sending'"
                    " && parseFloat(document.querySelector('#rate').textContent) > 0",
                    timeout=60_000,
                )
                while_sending = float(await page.locator("#rate").inner_text())
                label_while_sending = await page.locator("#rate-label").inner_text()
                await page.locator("#status[data-status='done']").wait_for(timeout=60_000)
                await page.wait_for_function(
                    "() => document.querySelector('#rate-label').textContent.includes('average')"
                )
                average = float(await page.locator("#rate").inner_text())
                delivered = await page.locator("#delivered").inner_text()
        finally:
            stop_worker()
            await conversation.close()
        sent = sum(len(telegram.sent_to(9000 + number)) for number in range(SUBSCRIBERS))

    assert (delivered, sent) == (str(SUBSCRIBERS), SUBSCRIBERS)
    assert label_while_sending == "Messages per second"
    assert 0 < while_sending <= RATE * 1.5
    assert 0 < average <= RATE * 1.5
