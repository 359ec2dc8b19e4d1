"""The organizers' announcement pages: compose per language, preview exactly who would get it
(the same rule as `learncity broadcast --dry-run`, nothing sent or recorded), send or schedule
it for the broadcast workers, read its progress and the past announcements."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import create_engine, text

import citizens
import staff
from bot.broadcast_worker import BroadcastWorker
from core.database import session_scope
from core.settings import Settings
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
    # The topic is chosen from the subscribed topics (most citizens first), or typed.
    offered = re.findall(r'<option value="([^"]*)" label="(\d+) subscribed">', form.text)
    assert offered == [("calligraphy", "3"), ("pottery", "1")]
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
    # Which text each will get: web:a1 chose no language, so it gets the English text.
    got = dict(re.findall(r'<label for="text_(\w+)">.*?will get this text: (\d+)', html, re.S))
    assert got == {"zh": "1", "en": "2", "es": "0", "fr": "0", "ar": "0", "ru": "0", "uk": "0"}
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


async def _run_worker_until_sent(url: str, client: httpx.AsyncClient, announcement_id: str) -> dict:
    """A real broadcast worker (no Redis: the chunk table is its queue) until it is idle."""

    stop = threading.Event()
    await BroadcastWorker(Settings(database_url=url)).run_in_process(stop, until=lambda: True)
    return (await client.get(f"/admin/api/announcement?id={announcement_id}")).json()


async def test_send_now_reaches_a_web_chat_page_once_and_is_audited(organizer) -> None:
    client, url = organizer
    fields = {"topic": "pottery", "text_zh": "陶艺周末开放日", "text_en": "Pottery open weekend"}
    preview = await client.post(
        "/admin/announce/preview",
        data={"csrf_token": csrf_token_in((await client.get("/admin/announce")).text), **fields},
    )
    assert 'formaction="/admin/announce/send"' in preview.text and "Send to 2" in preview.text
    token = csrf_token_in(preview.text)

    sent = await client.post("/admin/announce/send", data={"csrf_token": token, **fields})
    assert sent.status_code == 303
    page = await client.get(sent.headers["location"])
    assert 'data-progress-url="/admin/api/announcement?id=' in page.text
    assert '<script src="/admin/static/announce_progress.js"' in page.text
    announcement_id = sent.headers["location"].split("id=")[1]
    state = await _run_worker_until_sent(url, client, announcement_id)
    # pottery reaches wechat:oX1 (no WeChat sender configured here: failed, retried next time)
    # and web:a1 (any topic, Nanhu) through the web chat's outbox.
    assert (state["status"], state["delivered"], state["failed"], state["left"]) == (
        "done",
        1,
        1,
        0,
    )
    updates = (await client.get("/api/updates?session_id=a1")).json()
    assert [reply["text"] for reply in updates["replies"]] == ["Pottery open weekend"]

    again = await client.post("/admin/announce/send", data={"csrf_token": token, **fields})
    second = again.headers["location"].split("id=")[1]
    state = await _run_worker_until_sent(url, client, second)
    assert (state["delivered"], state["already_sent"]) == (0, 1), "each citizen gets it once"
    assert len((await client.get("/api/updates?session_id=a1")).json()["replies"]) == 1
    with session_scope(url) as session:
        sends = [e for e in staff.audit_entries(session) if e.action == "broadcast_send"]
    assert [e.actor for e in sends] == ["ana", "ana"]
    assert (sends[-1].target, sends[-1].details["id"]) == (
        f"announcement {announcement_id}",
        int(announcement_id),
    )
    past = await client.get("/admin/announcements")
    assert f'href="/admin/announce/progress?id={second}"' in past.text
    assert past.text.count("<tr>") == 3  # the header and two announcements


async def test_a_scheduled_announcement_waits_for_its_time(organizer) -> None:
    client, _ = organizer
    token = csrf_token_in((await client.get("/admin/announce")).text)
    fields = {"text_en": "Winter school", "send_at": "2099-12-24T18:00"}

    sent = await client.post("/admin/announce/send", data={"csrf_token": token, **fields})
    state = (
        await client.get(sent.headers["location"].replace("announce/progress", "api/announcement"))
    ).json()

    # Asia/Shanghai (the sample city) is UTC+8
    assert (state["status"], state["send_at"]) == ("scheduled", "2099-12-24T10:00:00+00:00")
    bad = await client.post(
        "/admin/announce/send", data={"csrf_token": token, "text_en": "x", "send_at": "soon"}
    )
    assert bad.status_code == 400 and "must be a date and a time" in bad.text


async def test_after_a_send_the_preview_counts_only_who_would_get_it_now(organizer) -> None:
    """The counts per channel and language are the citizens the ledger would send it to now:
    one an earlier send of the same announcement reached is counted as already reached only."""
    client, url = organizer
    fields = {"topic": "calligraphy", "text_zh": "周六书法课", "text_en": "Calligraphy on Saturday"}
    token = csrf_token_in((await client.get("/admin/announce")).text)
    sent = await client.post("/admin/announce/send", data={"csrf_token": token, **fields})
    state = await _run_worker_until_sent(url, client, sent.headers["location"].split("id=")[1])
    # No Telegram sender here: 101, 102 and 103 failed (tried again next time); web:a1 (any
    # topic, no language chosen: the English text) has it.
    assert (state["delivered"], state["failed"]) == (1, 3)
    with session_scope(url) as session:
        citizens.subscribe_events(session, "web:b2", topic="calligraphy", consent=True)
        citizens.set_language(session, "web:b2", "uk")

    html = (await client.post("/admin/announce/preview", data={"csrf_token": token, **fields})).text

    assert 'id="matched">5<' in html and 'id="already-sent">1<' in html
    assert 'id="would-send">4<' in html
    by_channel = re.findall(r"<tr><td>(\w+)</td><td>(\d+)</td><td>([^<]*)</td></tr>", html)
    assert by_channel == [("telegram", "3", "zh 2 · en 1"), ("web", "1", "en 1")]
    chose = dict(re.findall(r'<label for="text_(\w+)">.*?who chose it: (\d+)', html, re.S))
    assert (chose["zh"], chose["en"], chose["uk"]) == ("2", "1", "1")
    got = dict(re.findall(r'<label for="text_(\w+)">.*?will get this text: (\d+)', html, re.S))
    assert (got["zh"], got["en"], got["uk"]) == ("2", "2", "0"), "web:a1 is not counted again"
