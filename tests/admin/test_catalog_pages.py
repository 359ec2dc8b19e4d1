"""The catalog editors' pages: list and filter the learning offer, read one item in full."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

import knowledge
from core.database import session_scope
from tests.admin.console_support import console_app, log_in

ITEMS = [
    knowledge.CatalogItem(
        id="https://example.org/courses/pottery",
        type="course",
        name="Weekend pottery",
        topics=("pottery", "陶艺"),
        languages=("zh",),
        free=True,
        district="Nanhu",
        url="https://example.org/p?a=1&b=<2>",
    ),
    knowledge.CatalogItem(
        id="space-7", type="space", name="Nanhu library", district="Nanhu", free=False
    ),
    knowledge.CatalogItem(id="course-py", type="course", name="Python 入门", district="Xicheng"),
]


@pytest.fixture
async def editor(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app, conversation = console_app(database_url, {"wu": "editor", "ana": "organizer"})
    with session_scope(database_url) as session:
        knowledge.upsert_items(session, ITEMS, "test.jsonld")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "wu")
        yield client
    await conversation.close()


def _names(html: str) -> list[str]:
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [part.split("</a>", 1)[0].split(">")[-1] for part in rows.split('<td><a href="')[1:]]


async def test_the_list_filters_by_words_type_and_district(editor) -> None:
    everything = await editor.get("/admin/catalog")
    assert everything.status_code == 200
    assert sorted(_names(everything.text)) == ["Nanhu library", "Python 入门", "Weekend pottery"]
    assert "3 of 3 items" in everything.text

    assert _names((await editor.get("/admin/catalog?type=course&district=Nanhu")).text) == [
        "Weekend pottery"
    ]
    assert _names((await editor.get("/admin/catalog?q=陶艺")).text) == ["Weekend pottery"]
    nothing = await editor.get("/admin/catalog?q=beekeeping")
    assert "0 of 3 items" in nothing.text and _names(nothing.text) == []


async def test_an_item_page_shows_every_field_escaped(editor) -> None:
    page = await editor.get("/admin/catalog/item?id=https%3A%2F%2Fexample.org%2Fcourses%2Fpottery")
    assert page.status_code == 200
    assert "<h1>Weekend pottery</h1>" in page.text
    assert "pottery, 陶艺" in page.text and "Nanhu" in page.text
    assert "https://example.org/p?a=1&amp;b=&lt;2&gt;" in page.text

    missing = await editor.get("/admin/catalog/item?id=nope")
    assert missing.status_code == 404 and "No such item" in missing.text


async def test_an_organizer_is_refused_the_catalog(editor) -> None:
    editor.cookies.clear()
    await log_in(editor, "ana")
    assert (await editor.get("/admin/catalog")).status_code == 403
