"""Announcing a catalog event: the form lists the upcoming events (next dates in the city's
time zone, filtered by words), choosing one fills every language's text and narrows the
recipients to its topics and district (shown, changeable, counted); the event is stored and
shown with the announcement; `learncity broadcast --event ID` does the same. A scheduled
announcement can be cancelled before a worker takes it, and then nobody is sent it."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update

import citizens
import knowledge
import staff
from bot.admin.dates import shown_day
from bot.admin.event_choice import EventChoice, upcoming_events
from bot.broadcast_jobs import (
    AnnouncementRow,
    ChunkRow,
    claim_chunk,
    claim_due,
    dispatched,
    ledger_counts,
    plan,
    progress,
    submit,
    utc_now,
)
from bot.broadcast_rate import InProcessRate
from bot.broadcast_worker import BroadcastWorker
from bot.broadcasts import Announcement, send_chunk
from bot.channels.configured import configured_senders
from bot.web_outbox import updates_after
from core.database import session_scope
from core.settings import Settings
from knowledge.city import load_city
from tests.admin.console_support import console_app, csrf_token_in, log_in
from tests.bot.broadcast_support import broadcast_command

CITY = ZoneInfo(load_city().time_zone)
TODAY = datetime.now(CITY).date()
FAIR_DAY = TODAY + timedelta(days=10)
WEEKLY_DAY = TODAY + timedelta(days=2)  # the weekly club meets on this weekday
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

EVENTS = [
    knowledge.CatalogItem(
        id="evt-pottery",
        type="event",
        name="Pottery fair",
        topics=("pottery", "ceramics"),
        place_name="Nanhu Community Centre",
        address="100 Huxin Road",
        district="南湖区",
        start=f"{FAIR_DAY.isoformat()}T14:00:00+08:00",
        end=f"{FAIR_DAY.isoformat()}T16:00:00+08:00",
    ),
    knowledge.CatalogItem(
        id="evt-club",
        type="event",
        name="Calligraphy club",
        topics=("calligraphy",),
        place_name="Beishan Library",
        district="Beishan",
        sessions=(
            knowledge.Session(
                days=(WEEKDAYS[WEEKLY_DAY.weekday()],),
                start_time="19:00",
                end_time="21:00",
                start_date=(TODAY - timedelta(days=60)).isoformat(),
            ),
        ),
    ),
    knowledge.CatalogItem(
        id="evt-over",
        type="event",
        name="Last week's lecture",
        start=f"{(TODAY - timedelta(days=7)).isoformat()}T10:00:00+08:00",
    ),
    knowledge.CatalogItem(id="course-py", type="course", name="Python basics", district="Nanhu"),
]
SUBSCRIBERS = [  # (sender, topic, district, chosen language)
    ("telegram:201", "pottery", "Nanhu", "zh"),
    ("telegram:202", "ceramics", "", "en"),
    ("web:p1", "", "Nanhu", None),
    ("wechat:c1", "calligraphy", "Nanhu", "zh"),
    ("telegram:203", "pottery", "Beishan", "en"),
]


def _seed(url: str) -> None:
    with session_scope(url) as session:
        knowledge.upsert_items(session, EVENTS, "test.ics")
        for sender, topic, district, language in SUBSCRIBERS:
            citizens.subscribe_events(session, sender, topic=topic, district=district, consent=True)
            if language:
                citizens.set_language(session, sender, language)


@pytest.fixture
async def organizer(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    app, conversation = console_app(database_url, {"ana": "organizer", "pia": "planner"})
    _seed(database_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "ana")
        yield client, database_url
    await conversation.close()


def _options(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<option value="(evt-[^"]*)"[^>]*>([^<]*)</option>', html)


def _textarea(html: str, language: str) -> str:
    match = re.search(rf'<textarea id="text_{language}"[^>]*>([^<]*)</textarea>', html)
    assert match, language
    return match.group(1)


async def test_the_form_lists_upcoming_events_soonest_first_and_filters_them(organizer) -> None:
    client, _ = organizer
    form = (await client.get("/admin/announce")).text
    # The weekly club's next meeting (in two days) comes before the fair in ten; the lecture
    # is over and the course is no event.
    assert _options(form) == [
        (
            "evt-club",
            f"{shown_day(WEEKLY_DAY, 'en')} 19:00–21:00 · Calligraphy club · Beishan Library",
        ),
        (
            "evt-pottery",
            f"{shown_day(FAIR_DAY, 'en')} 14:00–16:00 · Pottery fair · "
            "Nanhu Community Centre, 100 Huxin Road",
        ),
    ]
    found = (await client.get("/admin/announce", params={"events_q": "CERAMICS nanhu"})).text
    assert [event_id for event_id, _ in _options(found)] == ["evt-pottery"]
    none = (await client.get("/admin/announce", params={"events_q": "opera"})).text
    assert _options(none) == [] and 'id="no-events"' in none


def test_a_weekly_event_shows_next_weeks_meeting_once_todays_has_ended(database_url: str) -> None:
    console_app(database_url, {})  # the schema
    _seed(database_url)
    city = load_city()

    def club_listed_at(hour: int, minute: int) -> tuple[datetime | None, ...] | None:
        moment = datetime.combine(WEEKLY_DAY, time(hour, minute), tzinfo=CITY)
        with session_scope(database_url) as session:
            listed = upcoming_events(session, city, now=moment)
        return {event.id: (event.starts, event.ends) for event in listed}.get("evt-club")

    def meeting(day: date) -> tuple[datetime | None, ...]:
        return (
            datetime.combine(day, time(19, 0), tzinfo=CITY),
            datetime.combine(day, time(21, 0), tzinfo=CITY),
        )

    # During the meeting it is still that day's; once it has ended, next week's (it had
    # dropped from the list until midnight).
    assert club_listed_at(20, 30) == meeting(WEEKLY_DAY)
    assert club_listed_at(21, 30) == meeting(WEEKLY_DAY + timedelta(days=7))


async def test_choosing_an_event_fills_the_texts_and_narrows_the_recipients(organizer) -> None:
    client, _ = organizer
    page = await client.get("/admin/announce", params={"event": "evt-pottery"})
    assert page.status_code == 200
    html = page.text
    weekday = FAIR_DAY.strftime("%a")
    assert _textarea(html, "en") == (
        f"Pottery fair\nWhen: {weekday} {FAIR_DAY.isoformat()} 14:00–16:00\n"
        "Where: Nanhu Community Centre, 100 Huxin Road, Nanhu"
    )
    assert "地点：Nanhu Community Centre, 100 Huxin Road, 南湖" in _textarea(html, "zh")
    assert "Наньху" in _textarea(html, "ru") and "نانهو" in _textarea(html, "ar")
    # Right to left, the date and the Latin place stay readable: isolated left-to-right.
    isolated = f"\u2066{FAIR_DAY.isoformat()} 14:00–16:00\u2069"
    assert isolated in _textarea(html, "ar") and isolated not in _textarea(html, "en")
    assert "\u2066Nanhu Community Centre, 100 Huxin Road\u2069, نانهو" in _textarea(html, "ar")
    assert all(FAIR_DAY.isoformat() in _textarea(html, code) for code in ("es", "fr", "uk"))
    # The narrowing is shown in the boxes, and the recipients it reaches are counted at once:
    # 201 (pottery, Nanhu), 202 (ceramics, any district), p1 (any topic, Nanhu); not 203
    # (Beishan) nor c1 (calligraphy).
    assert 'id="topic" name="topic" type="text" maxlength="200" value="pottery, ceramics"' in html
    assert '<option value="Nanhu" selected>' in html
    assert 'name="event_id" value="evt-pottery"' in html and 'id="chosen-event"' in html
    assert 'id="matched">3<' in html
    assert "<td>telegram</td><td>2</td>" in html and "<td>web</td><td>1</td>" in html
    got = dict(re.findall(r'<label for="text_(\w+)">.*?will get this text: (\d+)', html, re.S))
    assert (got["zh"], got["en"]) == ("1", "2")

    # The organizer widens it to every district: 203 too, and the event stays chosen.
    wider = await client.post(
        "/admin/announce/preview",
        data={
            "csrf_token": csrf_token_in(html),
            "event_id": "evt-pottery",
            "topic": "pottery, ceramics",
            "district": "",
            "text_en": _textarea(html, "en"),
        },
    )
    assert 'id="matched">4<' in wider.text and "<td>telegram</td><td>3</td>" in wider.text
    assert 'name="event_id" value="evt-pottery"' in wider.text


async def test_an_unknown_event_is_named_and_nothing_is_stored(organizer) -> None:
    client, url = organizer
    page = await client.get("/admin/announce", params={"event": "evt-nope"})
    assert page.status_code == 404 and "no event with the id evt-nope" in page.text
    sent = await client.post(
        "/admin/announce/send",
        data={"csrf_token": csrf_token_in(page.text), "event_id": "evt-over2", "text_en": "Hi"},
    )
    assert sent.status_code == 400 and "evt-over2" in sent.text
    with session_scope(url) as session:
        assert session.query(AnnouncementRow).count() == 0


async def _run_worker(url: str) -> None:
    """A real broadcast worker (no Redis: the chunk table is its queue) until it is idle."""
    await BroadcastWorker(Settings(database_url=url)).run_in_process(
        threading.Event(), until=lambda: True
    )


async def test_an_event_announcement_is_sent_stored_and_shown_with_its_event(organizer) -> None:
    client, url = organizer
    chosen = (await client.get("/admin/announce", params={"event": "evt-pottery"})).text
    fields = {
        "event_id": "evt-pottery",
        "topic": "pottery, ceramics",
        "district": "Nanhu",
        "text_en": _textarea(chosen, "en") + "\nBring an apron.",
    }
    sent = await client.post(
        "/admin/announce/send", data={"csrf_token": csrf_token_in(chosen), **fields}
    )
    assert sent.status_code == 303
    announcement_id = sent.headers["location"].split("id=")[1]
    await _run_worker(url)
    state = (await client.get(f"/admin/api/announcement?id={announcement_id}")).json()
    assert (state["event_id"], state["status"], state["matched"]) == ("evt-pottery", "done", 3)
    inbox = (await client.get("/api/updates?session_id=p1")).json()["replies"]
    assert [reply["text"].splitlines()[-1] for reply in inbox] == ["Bring an apron."]

    progress = await client.get(sent.headers["location"])
    assert '<span class="event-name">Pottery fair</span> (evt-pottery)' in progress.text
    past = await client.get("/admin/announcements")
    assert '<td><span class="event-name">Pottery fair</span></td>' in past.text
    with session_scope(url) as session:
        sends = [e for e in staff.audit_entries(session) if e.action == "broadcast_send"]
    assert sends[-1].details["event"] == "evt-pottery"


def _web_inbox(url: str, session_id: str) -> list[str]:
    """The last line of each announcement a web chat page was sent (its own words)."""
    with session_scope(url) as session:
        return [
            update.reply["text"].splitlines()[-1] for update in updates_after(session, session_id)
        ]


async def _send_and_run(client: httpx.AsyncClient, url: str, fields: dict[str, str]) -> dict:
    """Send from the console, a worker sends it; its state as the progress page reads it."""
    token = csrf_token_in((await client.get("/admin/announce")).text)
    sent = await client.post("/admin/announce/send", data={"csrf_token": token, **fields})
    assert sent.status_code == 303, sent.text
    await _run_worker(url)
    announcement_id = sent.headers["location"].split("id=")[1]
    return (await client.get(f"/admin/api/announcement?id={announcement_id}")).json()


NARROWING = {"event_id": "evt-pottery", "topic": "pottery, ceramics", "district": "Nanhu"}
FIRST_NOTICE = {**NARROWING, "text_en": "Pottery fair on Saturday"}
ROOM_CHANGED = {**NARROWING, "text_en": "Pottery fair: now in hall B"}


async def test_a_second_notice_about_an_event_reaches_everyone_once(organizer) -> None:
    """An announcement is itself (its texts, narrowing and event), not its event: "room
    changed" reaches those the first notice reached, and each of them once."""
    client, url = organizer
    with session_scope(url) as session:
        for sender in ("web:q1", "web:q2"):
            citizens.subscribe_events(session, sender, topic="pottery", consent=True)
    first = await _send_and_run(client, url, FIRST_NOTICE)
    assert (first["delivered"], first["failed"]) == (3, 2)  # no Telegram sender here

    token = csrf_token_in((await client.get("/admin/announce")).text)
    preview = await client.post(
        "/admin/announce/preview", data={"csrf_token": token, **ROOM_CHANGED}
    )
    assert 'id="already-sent">0<' in preview.text and 'id="would-send">5<' in preview.text
    moved = await _send_and_run(client, url, ROOM_CHANGED)
    assert (moved["event_id"], moved["delivered"], moved["already_sent"]) == ("evt-pottery", 3, 0)
    again = await _send_and_run(client, url, ROOM_CHANGED)
    assert (again["delivered"], again["already_sent"]) == (0, 3)
    notices = ["Pottery fair on Saturday", "Pottery fair: now in hall B"]
    assert {web: _web_inbox(url, web) for web in ("p1", "q1", "q2")} == {
        web: notices for web in ("p1", "q1", "q2")
    }
    assert moved["announcement_key"] != first["announcement_key"]


async def test_a_notice_whose_worker_died_mid_chunk_is_sent_to_the_rest_once(
    database_url: str,
) -> None:
    """The second notice's chunk was claimed by a worker that sent one message and was killed
    (its lease ran out): the next worker sends the rest of that notice, nobody gets it twice,
    and the first notice about the same event does not stand in its way."""
    url = database_url
    console_app(url, {})
    _seed(url)
    with session_scope(url) as session:
        for sender in ("web:q1", "web:q2"):
            citizens.subscribe_events(session, sender, topic="pottery", consent=True)
        submit(session, _announcement(FIRST_NOTICE))
    await _run_worker(url)
    with session_scope(url) as session:
        moved_id = submit(session, _announcement(ROOM_CHANGED))
        row = claim_due(session, "killed-worker")
        assert row is not None and row.id == moved_id
        (chunk_id,) = plan(session, row, "killed-worker", chunk_size=50)
        dispatched(session, moved_id, "killed-worker")
        chunk = claim_chunk(session, chunk_id, "killed-worker", timedelta(seconds=15))
        assert chunk is not None
        announcement = row.announcement()
    web = configured_senders(Settings(database_url=url))["web"]
    with session_scope(url) as session:  # its one send before the kill
        await send_chunk(
            announcement, {"web": web}, ["web:q1"], session, {"web": InProcessRate(50)}
        )
    with session_scope(url) as session:  # the kill: its lease is never renewed and runs out
        session.execute(
            update(ChunkRow)
            .where(ChunkRow.id == chunk_id)
            .values(lease_until=utc_now() - timedelta(seconds=1))
        )
        session.commit()

    await _run_worker(url)

    with session_scope(url) as session:
        state = progress(session, moved_id)
    assert state is not None and (state.status, state.delivered, state.left) == ("done", 3, 0)
    assert state.announcement_key == announcement.key != _announcement(FIRST_NOTICE).key
    notices = ["Pottery fair on Saturday", "Pottery fair: now in hall B"]
    assert {web: _web_inbox(url, web) for web in ("p1", "q1", "q2")} == {
        web: notices for web in ("p1", "q1", "q2")
    }


def _announcement(fields: dict[str, str]) -> Announcement:
    return Announcement(
        texts={"en": fields["text_en"]},
        topic=fields["topic"],
        district=fields["district"],
        event_id=fields["event_id"],
    )


async def test_a_scheduled_announcement_is_cancelled_and_never_sent(organizer) -> None:
    client, url = organizer
    token = csrf_token_in((await client.get("/admin/announce")).text)
    fields = {"event_id": "evt-club", "topic": "calligraphy", "text_en": "Club tonight"}
    sent = await client.post(
        "/admin/announce/send", data={"csrf_token": token, **fields, "send_at": "2099-01-01T18:00"}
    )
    announcement_id = sent.headers["location"].split("id=")[1]
    page = await client.get(sent.headers["location"])
    assert 'id="cancel-form"' in page.text

    forged = await client.post("/admin/announce/cancel", data={"id": announcement_id})
    assert forged.status_code == 403
    await log_in(client, "pia")
    planner = await client.post(
        "/admin/announce/cancel", data={"id": announcement_id, "csrf_token": token}
    )
    assert planner.status_code == 403, "planners cannot cancel announcements"
    await log_in(client, "ana")
    token = csrf_token_in((await client.get("/admin/announce")).text)
    cancelled = await client.post(
        "/admin/announce/cancel", data={"id": announcement_id, "csrf_token": token}
    )
    assert cancelled.status_code == 303
    page = await client.get(cancelled.headers["location"])
    assert f"Announcement {announcement_id} is cancelled" in page.text
    assert 'data-status="cancelled"' in page.text and 'id="cancel-form"' not in page.text

    # Due now (a worker would take it at once) but cancelled first: the worker sends nothing.
    with session_scope(url) as session:
        row = session.get(AnnouncementRow, int(announcement_id))
        assert row is not None
        row.send_at = datetime.now(UTC) - timedelta(minutes=1)
        session.commit()
    await _run_worker(url)
    state = (await client.get(f"/admin/api/announcement?id={announcement_id}")).json()
    assert (state["status"], state["delivered"], state["failed"]) == ("cancelled", 0, 0)
    with session_scope(url) as session:
        assert ledger_counts(session, state["announcement_key"]) == {}
        actions = [(e.action, e.target) for e in staff.audit_entries(session)]
    assert ("broadcast_cancel", f"announcement {announcement_id}") in actions

    # The same event can be announced again: a new announcement, not the cancelled one.
    again = await client.post("/admin/announce/send", data={"csrf_token": token, **fields})
    assert again.headers["location"].split("id=")[1] != announcement_id


async def test_one_a_worker_has_taken_can_no_longer_be_cancelled(organizer) -> None:
    client, url = organizer
    token = csrf_token_in((await client.get("/admin/announce")).text)
    sent = await client.post(
        "/admin/announce/send", data={"csrf_token": token, "text_en": "Now", "topic": "pottery"}
    )
    announcement_id = sent.headers["location"].split("id=")[1]
    with session_scope(url) as session:
        taken = claim_due(session, "worker-1")  # what a worker does first
        assert taken is not None and taken.id == int(announcement_id)
    refused = await client.post(
        "/admin/announce/cancel", data={"id": announcement_id, "csrf_token": token}
    )
    page = await client.get(refused.headers["location"])
    assert "has already started" in page.text
    with session_scope(url) as session:
        row = session.get(AnnouncementRow, int(announcement_id))
        assert row is not None and row.status == "planning"
        actions = [e.action for e in staff.audit_entries(session)]
    assert "broadcast_cancel_refused" in actions and "broadcast_cancel" not in actions


def test_the_command_takes_an_event_and_names_an_unknown_one(database_url: str) -> None:
    console_app(database_url, {})  # the schema
    _seed(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHAT_"))}
    env.update({"DATABASE_URL": database_url, "REDIS_URL": ""})

    unknown = broadcast_command(env, "--event", "evt-nope", "--dry-run")
    assert unknown.returncode == 2
    assert "--event evt-nope: the catalog has no event with this id" in unknown.stderr

    dry = broadcast_command(env, "--event", "evt-pottery", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["by_channel"] == {"telegram": 2, "web": 1}

    sent = broadcast_command(env, "--event", "evt-pottery", "--json")
    summary = json.loads(sent.stdout)
    assert summary["announcement_key"].startswith("text:") and summary["delivered"] == 1
    with session_scope(database_url) as session:
        texts = [update.reply["text"] for update in updates_after(session, "p1")]
    assert texts and texts[0].startswith("Pottery fair\nWhen: ")

    # A second notice about the event reaches p1 too; with --event-id KEY (the announcement's
    # own id, as scripts gave it before --event) a re-run with changed words is the same one.
    moved = ("--event", "evt-pottery", "--event-id", "pottery-room", "--json")
    first = json.loads(broadcast_command(env, *moved, "--text", "Now in hall B").stdout)
    again = json.loads(broadcast_command(env, *moved, "--text", "Now in hall B!").stdout)
    assert (first["announcement_key"], first["delivered"]) == ("event:pottery-room", 1)
    assert (again["announcement_key"], again["delivered"], again["already_sent"]) == (
        "event:pottery-room",
        0,
        1,
    )
    assert _web_inbox(database_url, "p1")[1:] == ["Now in hall B"]
    with session_scope(database_url) as session:
        stored = session.get(AnnouncementRow, first["id"])
        assert stored is not None and stored.event_id == "evt-pottery"


def test_an_event_over_several_days_shows_its_last_day() -> None:
    week = _event_over(
        start="2027-01-11T09:00:00+08:00", end="2027-01-17T17:00:00+08:00", has_time=True
    )
    assert week.when() == "2027-01-11 09:00 – 2027-01-17"
    days = _event_over(start="2027-04-24", end="2027-04-26", has_time=False)
    assert days.when() == "2027-04-24 – 2027-04-26"


def _event_over(start: str, end: str, has_time: bool) -> EventChoice:
    """An event as the form lists it, its dates read in the city's time zone."""
    starts, ends = (datetime.fromisoformat(value).replace(tzinfo=None) for value in (start, end))
    return EventChoice(
        id="evt-week",
        name="Week",
        starts=starts.replace(tzinfo=CITY),
        ends=ends.replace(tzinfo=CITY),
        has_time=has_time,
        place="",
        district="",
        topics=(),
    )
