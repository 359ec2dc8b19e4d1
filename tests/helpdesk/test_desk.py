"""The help desk's rules on a real database (SQLite, and PostgreSQL when it answers): one
chat per citizen, concurrent claims, messages stored before anything is acknowledged, office
hours, and the citizen's data in "my data" and gone after "forget me"."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

import citizens
import helpdesk
from core.database import session_scope, upgrade_database
from helpdesk.office_hours import parse_office_hours
from helpdesk.texts import DeskTextError, load_texts
from nlu.language import SUPPORTED_LANGUAGES
from tests.helpdesk.support import ask_for_person, chat_lines_of

CLAIMERS = 8


@pytest.fixture
def url(database_url: str) -> str:
    upgrade_database(database_url)
    return database_url


def test_asking_twice_keeps_one_place_and_positions_follow_the_order(url: str) -> None:
    first = ask_for_person(url, "web:a1")
    second = ask_for_person(url, "telegram:2")
    again = ask_for_person(url, "web:a1")
    assert [(t.chat_id, t.position, t.already_waiting) for t in (first, second, again)] == [
        (first.chat_id, 1, False),
        (second.chat_id, 2, False),
        (first.chat_id, 1, True),
    ]
    with session_scope(url) as session:
        assert helpdesk.claim(session, first.chat_id, "ana")
        assert helpdesk.queue_position(session, second.chat_id) == 1


def test_of_many_staff_claiming_one_chat_at_once_exactly_one_gets_it(url: str) -> None:
    ticket = ask_for_person(url, "wechat:oRace")
    start = threading.Barrier(CLAIMERS)
    won: list[str] = []

    def claim(name: str) -> None:
        start.wait()
        with session_scope(url) as session:
            if helpdesk.claim(session, ticket.chat_id, name):
                won.append(name)

    threads = [threading.Thread(target=claim, args=(f"staff{i}",)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1, won
    with session_scope(url) as session:
        holder = helpdesk.open_chat_for(session, "wechat:oRace")
    assert holder is not None and (holder.status, holder.claimed_by) == ("held", won[0])


def test_citizen_messages_are_stored_in_order_before_the_desk_answers(url: str) -> None:
    ticket = ask_for_person(url, "web:order", language="fr")
    said = [f"message {n}" for n in range(5)]
    acknowledgements = [helpdesk.desk_turn(url, "web:order", text) for text in said]
    assert all(ack and "file" in ack[0].text for ack in acknowledgements)
    assert chat_lines_of(url, ticket.chat_id) == [("citizen", text, False) for text in said]
    assert helpdesk.desk_turn(url, "web:never-asked", "hello") is None


def test_staff_answers_wait_in_order_until_marked_delivered(url: str) -> None:
    ticket = ask_for_person(url, "telegram:55", language="ru")
    with session_scope(url) as session:
        assert helpdesk.claim(session, ticket.chat_id, "ana")
        for text in ("раз", "два", "три"):
            helpdesk.add_staff_answer(session, ticket.chat_id, "ana", text)
        with pytest.raises(helpdesk.DeskError, match="not waiting and not yours"):
            helpdesk.add_staff_answer(session, ticket.chat_id, "bo", "чужой")
    with session_scope(url) as session:
        waiting = helpdesk.undelivered(session, ticket.chat_id)
        assert [(a.text, a.recipient_id, a.language) for a in waiting] == [
            ("раз", "55", "ru"),
            ("два", "55", "ru"),
            ("три", "55", "ru"),
        ]
        helpdesk.mark_delivered(session, waiting[0].id)
        helpdesk.mark_failed(session, waiting[1].id, "blocked the bot")
    with session_scope(url) as session:
        assert [a.text for a in helpdesk.undelivered(session, ticket.chat_id)] == ["три"]


def test_my_data_shows_the_hand_over_and_forget_me_erases_it(url: str) -> None:
    ticket = ask_for_person(url, "telegram:77", language="ar")
    helpdesk.desk_turn(url, "telegram:77", "شهادتي من دمشق")
    with session_scope(url) as session:
        data = citizens.export_citizen_data(session, "telegram:77")
    assert data["helpdesk_messages"] == [{"from": "citizen", "text": "شهادتي من دمشق"}]
    assert [chat["status"] for chat in data["helpdesk_chats"]] == ["waiting"]
    with session_scope(url) as session:
        erased = citizens.erase_citizen(session, "telegram:77")
        assert erased["helpdesk"] == 2
        assert citizens.remaining_rows(session, "telegram:77") == {}
        assert helpdesk.open_chat_for(session, "telegram:77") is None
    assert chat_lines_of(url, ticket.chat_id) == []


@pytest.mark.parametrize(
    ("hours", "moment", "open_"),
    [
        ("mon-fri 09:00-17:00", "2026-12-01T09:00:00+08:00", True),  # a Tuesday, at opening
        ("mon-fri 09:00-17:00", "2026-12-01T17:00:00+08:00", False),  # closing time
        ("mon-fri 09:00-17:00", "2026-12-05T10:00:00+08:00", False),  # Saturday
        ("mon-fri 09:00-12:00; sat 10:00-13:00", "2026-12-05T10:00:00+08:00", True),
        ("sun 00:00-24:00", "2026-12-06T23:59:00+08:00", True),
        ("mon-fri 09:00-17:00", "2026-12-01T02:00:00+00:00", True),  # 10:00 in Shanghai
    ],
)
def test_office_hours_are_read_in_the_city_time_zone(hours: str, moment: str, open_: bool) -> None:
    parsed = parse_office_hours(hours)
    assert parsed.is_open(datetime.fromisoformat(moment), "Asia/Shanghai") is open_


@pytest.mark.parametrize(
    ("hours", "named"),
    [
        ("mon-fri 9-17", "'mon-fri 9-17'"),
        ("mon-fry 09:00-17:00", "'fry'"),
        ("fri-mon 09:00-17:00", "run forwards"),
        ("mon 09:00-25:00", "25:00"),
        ("", "empty"),
    ],
)
def test_unreadable_office_hours_name_the_part(hours: str, named: str) -> None:
    with pytest.raises(helpdesk.OfficeHoursError, match=named):
        parse_office_hours(hours)


def test_office_hours_are_described_in_every_language() -> None:
    hours = parse_office_hours("mon-fri 09:00-17:00; sat 10:00-13:00")
    described = {language: hours.describe(language) for language in SUPPORTED_LANGUAGES}
    assert described["en"] == "Mon–Fri 09:00–17:00; Sat 10:00–13:00"
    assert described["zh"] == "周一至周五 09:00–17:00; 周六 10:00–13:00"
    assert described["ru"] == "пн–пт 09:00–17:00; сб 10:00–13:00"
    assert described["ar"] == "الاثنين–الجمعة 09:00–17:00; السبت 10:00–13:00"
    assert all(text.count("09:00–17:00") == 1 for text in described.values())


def test_every_desk_text_exists_in_every_language_with_the_same_placeholders(
    tmp_path: Path,
) -> None:
    assert set(load_texts()) >= {"queued", "closed", "waiting_ack", "resumed", "left_queue"}
    broken = tmp_path / "replies.yml"
    broken.write_text(
        "queued:\n"
        + "".join(f"  {lang}: 'number {{position}}'\n" for lang in SUPPORTED_LANGUAGES).replace(
            "fr: 'number {position}'", "fr: 'numéro {place}'"
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        DeskTextError, match=r"queued: the fr text must use the placeholders \['position'\]"
    ):
        load_texts(broken)


def test_a_request_is_timestamped_and_open_now_follows_the_hours(url: str) -> None:
    with session_scope(url) as session:
        helpdesk.set_office_hours(session, "tue 09:00-10:00", "mei")
    inside = ask_for_person(url, "web:t1", now=datetime(2026, 12, 1, 1, 30, tzinfo=UTC))
    outside = ask_for_person(url, "web:t2", now=datetime(2026, 12, 1, 3, 30, tzinfo=UTC))
    assert (inside.open_now, outside.open_now) == (True, False)


def _rasa_events(url: str, sender_id: str, events: list[dict[str, str]]) -> None:
    """Rasa's tracker store table as Rasa's SQL tracker store writes it (the columns read here)."""
    with session_scope(url) as session:
        session.execute(
            text(
                "CREATE TABLE IF NOT EXISTS events "
                "(id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"
            )
        )
        first = session.scalar(text("SELECT COALESCE(MAX(id), 0) FROM events")) + 1
        for number, event in enumerate(events, start=first):
            session.execute(
                text("INSERT INTO events (id, sender_id, data) VALUES (:id, :sender, :data)"),
                {"id": number, "sender": sender_id, "data": json.dumps(event)},
            )


def test_the_earlier_turns_are_read_from_rasas_tracker_store_oldest_first(url: str) -> None:
    _rasa_events(
        url,
        "web:ctx",
        [{"event": "user", "text": "weather?"}, {"event": "action", "name": "action_out_of_scope"}],
    )
    with session_scope(url) as session:
        assert [
            e.get("text") or e.get("name") for e in helpdesk.stored_events(session, "web:ctx")
        ] == [
            "weather?",
            "action_out_of_scope",
        ]
        assert helpdesk.stored_events(session, "web:other") == []


def test_the_failed_twice_offer_reads_only_the_previous_turn(url: str) -> None:
    with session_scope(url) as session:
        assert helpdesk.stored_events(session, "web:new", user_turns=1) == [], "no table yet"
    turns = [("music?", "action_out_of_scope"), ("weather?", "action_default_fallback")]
    _rasa_events(
        url,
        "web:two",
        [
            event
            for said, answered in turns
            for event in (
                {"event": "user", "text": said},
                {"event": "action", "name": answered},
                {"event": "action", "name": "action_listen"},
            )
        ],
    )
    with session_scope(url) as session:
        previous = helpdesk.stored_events(session, "web:two", user_turns=1)
        both = helpdesk.stored_events(session, "web:two", user_turns=5)

    assert [e.get("text") or e.get("name") for e in previous] == [
        "weather?",
        "action_default_fallback",
        "action_listen",
    ]
    assert len(both) == 6
