"""The organizers' announcement page: compose per language, preview exactly who would get it,
with the same rule as `learncity broadcast --dry-run`; nothing is sent or recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import create_engine, text

import citizens
import staff
from core.database import session_scope
from tests.admin.console_support import console_app, csrf_token_in, log_in

SUBSCRIBERS = [  # (sender, topic, district, chosen language)
    ("telegram:101", "calligraphy", "Nanhu", "zh"),
    ("telegram:102", "calligraphy", "", "en"),
    ("web:a1", "", "Nanhu", None),
    ("wechat:oX1", "pottery", "Nanhu", "zh"),
    ("telegram:103", "calligraphy", "Beishan", "zh"),
]


@pytest.fixture
async def organizer(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    app, conversation = console_app(database_url, {"ana": "organizer"})
    with session_scope(database_url) as session:
        for sender, topic, district, language in SUBSCRIBERS:
            citizens.subscribe_events(session, sender, topic=topic, district=district, consent=True)
            if language:
                citizens.set_language(session, sender, language)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "ana")
        yield client, database_url
    await conversation.close()


async def test_the_preview_counts_recipients_per_channel_and_language(organizer) -> None:
    client, url = organizer
    form = await client.get("/admin/announce")
    assert form.status_code == 200 and 'id="text_ar"' in form.text and 'dir="rtl"' in form.text
    response = await client.post(
        "/admin/announce/preview",
        data={
            "csrf_token": csrf_token_in(form.text),
            "topic": "Calligraphy workshop",
            "district": "Nanhu",
            "text_zh": "周六南湖书法工作坊",
            "text_en": "Calligraphy workshop in Nanhu on Saturday",
        },
    )

    assert response.status_code == 200
    html = response.text
    # calligraphy in Nanhu: 101 (topic+district), 102 (topic, any district), a1 (any topic, Nanhu)
    assert 'id="matched">3<' in html and 'id="would-send">3<' in html
    assert "<td>telegram</td><td>2</td>" in html and "<td>web</td><td>1</td>" in html
    # Beside the text boxes: zh 1 (telegram:101), en 1 (telegram:102), the other five 0.
    assert html.count("· recipients who chose it: 1") == 2
    assert html.count("· recipients who chose it: 0") == 5
    assert "周六南湖书法工作坊</textarea>" in html, "the texts stay in the form"
    engine = create_engine(url)
    with engine.connect() as connection:
        ledger = connection.execute(text("SELECT COUNT(*) FROM broadcast_deliveries")).scalar()
    engine.dispose()
    assert ledger == 0, "a preview sends and records nothing"


async def test_a_preview_without_any_text_says_what_is_missing(organizer) -> None:
    client, _ = organizer
    token = csrf_token_in((await client.get("/admin/announce")).text)
    response = await client.post(
        "/admin/announce/preview", data={"csrf_token": token, "text_en": "   "}
    )
    assert response.status_code == 400
    assert "at least one language" in response.text


async def test_send_now_reaches_a_web_chat_page_once_and_is_audited(organizer) -> None:
    client, url = organizer
    fields = {"topic": "pottery", "text_zh": "陶艺周末开放日", "text_en": "Pottery open weekend"}
    preview = await client.post(
        "/admin/announce/preview",
        data={"csrf_token": csrf_token_in((await client.get("/admin/announce")).text), **fields},
    )
    assert 'formaction="/admin/announce/send"' in preview.text and "Send now to 2" in preview.text
    token = csrf_token_in(preview.text)

    sent = await client.post("/admin/announce/send", data={"csrf_token": token, **fields})
    assert sent.status_code == 200
    # pottery reaches wechat:oX1 (no WeChat sender configured here: failed, retried next time)
    # and web:a1 (any topic, Nanhu) through the web chat's outbox.
    assert 'id="delivered">1<' in sent.text and 'id="failed">1<' in sent.text
    updates = (await client.get("/api/updates?session_id=a1")).json()
    assert [reply["text"] for reply in updates["replies"]] == ["Pottery open weekend"]

    again = await client.post("/admin/announce/send", data={"csrf_token": token, **fields})
    assert 'id="delivered">0<' in again.text, "each citizen gets an announcement once"
    assert len((await client.get("/api/updates?session_id=a1")).json()["replies"]) == 1
    with session_scope(url) as session:
        sends = [e for e in staff.audit_entries(session) if e.action == "broadcast_send"]
    assert [(e.actor, "delivered 1" in e.target) for e in sends] == [("ana", False), ("ana", True)]
