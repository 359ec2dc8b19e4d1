"""A planner in real Chromium is refused the organizers' broadcast pages (403), as issue 12's
targets ask: no link to them on the home page, a readable refusal in the console's language
when the address is typed, and nothing stored by a form posted from the planner's session."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.admin.browser_support import (
    LOW_CONTRAST_TEXT,
    SCREENSHOTS,
    browser_page,
    log_in_with,
    require_chromium,
    served,
)
from tests.admin.console_support import console_app

FORBIDDEN_SCREENSHOT = SCREENSHOTS / "console-forbidden.png"


async def test_a_planner_is_refused_the_broadcast_page(tmp_path: Path) -> None:
    require_chromium()
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    app, conversation = console_app(database_url, {"li": "planner"})
    try:
        with served(app) as base_url:
            async with browser_page("en-GB", 768, 1024) as page:
                await log_in_with(page, base_url, "li", "Staff name", "Password")
                announce_links = await page.get_by_role("link", name="Announcements").count()
                refused = await page.goto(f"{base_url}/admin/announce")
                assert refused is not None
                status, address = refused.status, page.url
                heading = await page.get_by_role("heading", level=1).inner_text()
                low_contrast = await page.evaluate(LOW_CONTRAST_TEXT)
                await page.screenshot(path=str(FORBIDDEN_SCREENSHOT), full_page=True)
                # A send posted from the planner's own page (with its session's CSRF token).
                posted = await page.evaluate(
                    """async () => {
                      const me = await (await fetch('/admin/api/me')).json();
                      const body = new URLSearchParams({csrf_token: me.csrf_token, text_en: 'x'});
                      const answer = await fetch('/admin/announce/send', {method: 'POST', body});
                      return answer.status;
                    }"""
                )
                past = await page.goto(f"{base_url}/admin/announcements")
                assert past is not None
                await page.get_by_role("link", name="Back to the home page").click()
                await page.wait_for_url("**/admin/")
    finally:
        await conversation.close()

    assert announce_links == 0, "the planner's home page offers no broadcast page"
    assert (status, address) == (403, f"{base_url}/admin/announce"), "refused, not redirected"
    assert heading == "Not for your role"
    assert low_contrast == []
    assert (posted, past.status) == (403, 403)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT COUNT(*) FROM broadcast_announcements")).scalar()
    engine.dispose()
    assert stored == 0, "nothing was stored for the workers"
    assert FORBIDDEN_SCREENSHOT.stat().st_size > 10_000
