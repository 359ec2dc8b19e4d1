"""Every console page checked for accessibility in real Chromium (issue 12: keyboard, labels,
contrast): axe-core (the PyPI package axe-playwright-python ships it; MPL-2.0, run offline)
finds no WCAG 2.1 A/AA or best-practice violation on any page of the app's route table, in
English and Chinese, nor on the pages a form leads to; no page scrolls sideways on a tablet;
Tab walks the login, compose and dashboard pages in reading order with a visible focus, and an
announcement is composed, previewed and sent with the keyboard alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from axe_playwright_python.async_playwright import Axe

import citizens
import knowledge
from core.database import session_scope
from tests.admin.browser_support import COLOUR_JS, browser_page, log_in_with
from tests.admin.console_support import admin_routes_of, console_app
from tests.admin.test_console_browser_editors import LAPTOP, TABLET, served_editor  # noqa: F401
from tests.helpdesk.support import ask_for_person

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

AXE_RULES = {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
LOGIN_LABELS = {"en-GB": ("Staff name", "Password"), "zh-CN": ("工作人员账号", "密码")}
UNMET = [("library", "en"), ("مكتبة", "ar"), ("libary", "en"), ("библиотека", "ru")]
# Query strings of the pages that show one thing; a page without one opens bare.
SHOWING_ONE = {
    "/admin/catalog/item": "?id=lc-erhu",
    "/admin/catalog/edit": "?id=lc-erhu",
    "/admin/catalog/sessions": "?id=lc-erhu",
    "/admin/catalog/remove": "?id=lc-erhu",
    "/admin/planner/unmet": "?group=" + quote("concept:library"),
    "/admin/announce/progress": "?id={announcement}",
    "/admin/helpdesk/chat": "?id={chat}",
}
# The elements Tab can reach, in reading order, each named by its tag, id (or name, or text)
# and place in the page.
_TAB_STOPS_JS = """
const tabStops = () => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')]
  .filter((e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length
    && getComputedStyle(e).visibility !== 'hidden');
const named = (e) => `${e.tagName} ${e.id || e.name || e.textContent.trim().slice(0, 30)} @${
  [...document.querySelectorAll('*')].indexOf(e)}`;
"""
TAB_STOPS = "() => {" + _TAB_STOPS_JS + "return tabStops().map(named); }"
FIRST_TAB_STOP_FOCUSED = "() => {" + _TAB_STOPS_JS + "tabStops()[0].focus(); }"
# What has the focus, and whether it is drawn plainly: an outline of 2 px or more (WCAG 2.2's
# focus appearance; Chromium's own ring is 1 px) in a colour of at least 3:1 against the
# background around it (WCAG 1.4.11).
FOCUSED = (
    "() => {"
    + _TAB_STOPS_JS
    + COLOUR_JS
    + """
  const e = document.activeElement, style = getComputedStyle(e);
  const shown = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
    && contrast(rgb(style.outlineColor), background(e.parentElement)) >= 3;
  return [named(e), shown]; }"""
)
SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"
# Chart texts drawn under 13 px or past their chart's edges: [text, px, room left, room right].
SMALL_OR_CUT_CHART_TEXT = """() => [...document.querySelectorAll('svg text')].map((t) => {
  const chart = t.ownerSVGElement, box = chart.getBoundingClientRect(), r = t.getBoundingClientRect();
  const px = parseFloat(getComputedStyle(t).fontSize) * box.width / chart.viewBox.baseVal.width;
  return [t.textContent, +px.toFixed(1), Math.round(r.left - box.left), Math.round(box.right - r.right)];
}).filter(([, px, left, right]) => px < 13 || left < 0 || right < 0)"""
# Text boxes whose text does not fit (scrolled out of sight).
CUT_TEXT_BOXES = """() => [...document.querySelectorAll('textarea')]
  .filter((box) => box.scrollHeight > box.clientHeight + 1).map((box) => box.id)"""
LONG_TOPIC = "适合老年人的智能手机使用入门课程和网上挂号"  # 21 Chinese characters


def _seed(database_url: str) -> dict[str, str]:
    """Needs, unmet searches (library in three languages and a typo), two subscribers and a
    citizen waiting for a person; the ids the pages of one thing show."""
    with session_scope(database_url) as session:
        for number, (query, language) in enumerate(UNMET):
            knowledge.record_unmet_demand(session, query, language, {}, None, f"web:u{number}")
        need = citizens.LearningNeed(topic="yoga", district="Nanhu", language="zh")
        citizens.register_learning_need(session, "web:need", need, consent=True)
        for sender, language in (("telegram:71", "zh"), ("web:reader", "en")):
            citizens.subscribe_events(session, sender, topic="yoga", consent=True)
            citizens.set_language(session, sender, language)
    ticket = ask_for_person(database_url, "web:waiting", language="uk")
    return {"chat": ticket.chat_id}


def _pages(database_url: str, ids: dict[str, str]) -> list[str]:
    """Every page under /admin a person opens (GET, not the JSON API, CSV or static files)."""
    app, _ = console_app(database_url, {})
    pages = []
    for path, method, _route in admin_routes_of(app):
        if method != "GET" or path.endswith(".csv") or path.startswith("/admin/api/"):
            continue
        if path.startswith("/admin/static") or path == "/admin/login":
            continue
        pages.append(path + SHOWING_ONE.get(path, "").format(**ids))
    return pages


async def _violations(axe: Axe, page: Page) -> list[str]:
    """axe-core's violations on the page as 'rule (impact): elements'."""
    found: dict[str, Any] = (await axe.run(page, options={"runOnly": AXE_RULES})).response
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:5]}"
        for v in found["violations"]
    ]


async def _tab_walk(page: Page) -> tuple[list[str], list[str], list[str]]:
    """(the page's tab stops in reading order, the stops Tab reached from the first one, the
    ones that showed no focus). Date and time inputs take one Tab per part: counted once."""
    wanted = await page.evaluate(TAB_STOPS)
    await page.keyboard.press("Tab")  # a key first: the focus is then shown as for keyboards
    await page.evaluate(FIRST_TAB_STOP_FOCUSED)
    reached: list[str] = []
    unseen: list[str] = []
    for _ in range(4 * len(wanted)):
        name, shown = await page.evaluate(FOCUSED)
        if name.startswith("BODY") or (len(reached) > 1 and name == reached[0]):
            break
        if not reached or reached[-1] != name:
            reached.append(name)
            if not shown:
                unseen.append(name)
        await page.keyboard.press("Tab")
    return wanted, reached, unseen


async def _announcement_by_keyboard(page: Page, base_url: str) -> str:
    """Compose, preview and send an announcement with the keyboard (no worker runs here: it
    waits); the id its progress page shows."""
    await page.goto(f"{base_url}/admin/announce")
    for field, words in (
        ("topic", "yoga"),
        ("text_zh", "周六瑜伽"),
        ("text_en", "Yoga on Saturday"),
    ):
        await _tab_to(page, page.locator(f"#{field}"))
        await page.keyboard.type(words)
    await _tab_to(page, page.get_by_role("button", name="Preview recipients"))
    await page.keyboard.press("Enter")
    send = page.get_by_role("button", name="Send to 2")
    await send.wait_for()
    await _tab_to(page, send)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/admin/announce/progress?id=*")
    return page.url.split("id=", 1)[1].split("&", 1)[0]


async def _tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus (fails when it never gets it)."""
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await target.evaluate("(e) => e === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


async def test_every_page_passes_axe_in_english_and_chinese_and_fits_a_tablet(
    served_editor,  # noqa: F811
) -> None:
    base_url, database_url = served_editor
    ids = _seed(database_url)
    axe = Axe()
    found: dict[str, list[str]] = {}
    sideways: dict[str, int] = {}
    statuses: dict[str, int] = {}
    async with browser_page("en-GB", *LAPTOP) as page:
        await page.goto(f"{base_url}/admin/login")
        found["en /admin/login"] = await _violations(axe, page)
        await page.get_by_label("Staff name").fill("mei")
        await page.get_by_label("Password").fill("not the password")
        await page.keyboard.press("Enter")
        await page.get_by_role("alert").wait_for()
        found["en /admin/login (wrong password)"] = await _violations(axe, page)
        await log_in_with(page, base_url, "mei", *LOGIN_LABELS["en-GB"])
        ids["announcement"] = await _announcement_by_keyboard(page, base_url)
    pages = _pages(database_url, ids)
    for locale in ("en-GB", "zh-CN"):
        async with browser_page(locale, *LAPTOP) as page:
            await log_in_with(page, base_url, "mei", *LOGIN_LABELS[locale])
            for path in pages:
                response = await page.goto(base_url + path)
                statuses[path] = response.status if response else 0
                found[f"{locale[:2]} {path}"] = await _violations(axe, page)
    async with browser_page("zh-CN", *TABLET) as page:
        await log_in_with(page, base_url, "mei", *LOGIN_LABELS["zh-CN"])
        for path in pages:
            await page.goto(base_url + path)
            sideways[path] = await page.evaluate(SIDEWAYS)

    assert len(pages) >= 18, pages
    assert {path: status for path, status in statuses.items() if status != 200} == {}
    assert {where: v for where, v in found.items() if v} == {}
    assert {path: px for path, px in sideways.items() if px > 0} == {}


async def test_forms_lead_to_pages_that_pass_axe(served_editor) -> None:  # noqa: F811
    base_url, database_url = served_editor
    _seed(database_url)
    axe = Axe()
    found: dict[str, list[str]] = {}
    async with browser_page("zh-CN", *TABLET) as page:
        await log_in_with(page, base_url, "mei", *LOGIN_LABELS["zh-CN"])
        await page.goto(f"{base_url}/admin/announce")
        await page.locator("#text_zh").fill("周六瑜伽")
        await page.locator("#text_en").fill("Yoga\nWhen: Sat 09:00\nWhere: Nanhu\nBring a mat.")
        await page.locator("form[action$='/announce/preview'] button[type=submit]").click()
        await page.wait_for_url("**/admin/announce/preview")
        found["announce preview"] = await _violations(axe, page)
        cut_text_boxes = await page.evaluate(CUT_TEXT_BOXES)
        await page.goto(f"{base_url}/admin/catalog/edit?id=lc-erhu")
        await page.locator("#field-latitude").fill("95")
        await page.locator("form[action$='/catalog/edit'] button[type=submit]").click()
        await page.get_by_role("alert").first.wait_for()
        found["catalog edit, a bad field"] = await _violations(axe, page)
        await page.goto(f"{base_url}/admin/guidance")
        await page.locator("form button[formaction$='/guidance/preview']").first.click()
        await page.wait_for_url("**/admin/guidance/preview")
        found["guidance preview"] = await _violations(axe, page)
    assert {where: v for where, v in found.items() if v} == {}
    assert cut_text_boxes == [], "a text box shows all of its text"


async def test_tab_walks_login_compose_and_dashboard_in_reading_order_with_focus_shown(
    served_editor,  # noqa: F811
) -> None:
    base_url, database_url = served_editor
    _seed(database_url)
    walks: dict[str, tuple[list[str], list[str], list[str]]] = {}
    async with browser_page("en-GB", *LAPTOP) as page:
        await page.goto(f"{base_url}/admin/login")
        walks["login"] = await _tab_walk(page)
        await log_in_with(page, base_url, "mei", *LOGIN_LABELS["en-GB"])
        for name, path in (("compose", "/admin/announce"), ("dashboard", "/admin/planner")):
            await page.goto(base_url + path)
            walks[name] = await _tab_walk(page)

    for name, (wanted, reached, unseen) in walks.items():
        assert reached == wanted, name
        assert unseen == [], name
    login_stops = [name.rsplit(" @", 1)[0] for name in walks["login"][0]]
    assert login_stops[-3:] == ["INPUT name", "INPUT password", "BUTTON Log in"]


async def test_chart_labels_are_readable_and_whole_on_a_laptop_and_a_tablet(
    served_editor,  # noqa: F811
) -> None:
    base_url, database_url = served_editor
    _seed(database_url)
    with session_scope(database_url) as session:
        need = citizens.LearningNeed(topic=LONG_TOPIC, district="Nanhu", language="zh")
        citizens.register_learning_need(session, "web:long-topic", need, consent=True)
    found: dict[str, list[list[Any]]] = {}
    for width, height in (LAPTOP, TABLET):
        async with browser_page("zh-CN", width, height) as page:
            await log_in_with(page, base_url, "mei", *LOGIN_LABELS["zh-CN"])
            await page.goto(f"{base_url}/admin/planner")
            labels = await page.locator("svg text.bar-label").all_text_contents()
            found[f"{width} px"] = await page.evaluate(SMALL_OR_CUT_CHART_TEXT)
    assert LONG_TOPIC[:8] in " ".join(labels)
    assert found == {"1280 px": [], "768 px": []}
