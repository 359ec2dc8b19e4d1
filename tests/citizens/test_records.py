"""Citizen records on a real database: consent, export, erase."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

import citizens
from core.database import get_engine, session_scope, upgrade_database


@pytest.fixture
def url(database_url: str) -> str:
    upgrade_database(database_url)
    return database_url


def test_learning_need_without_consent_is_refused_and_nothing_stored(url: str) -> None:
    with session_scope(url) as session, pytest.raises(citizens.ConsentRequiredError):
        citizens.register_learning_need(
            session, "web:a", citizens.LearningNeed(topic="sign language"), consent=False
        )
    with session_scope(url) as session:
        assert citizens.export_citizen_data(session, "web:a")["learning_needs"] == []


def test_registered_need_is_shown_and_counted(url: str) -> None:
    need = citizens.LearningNeed(topic="Sign language", district="Nanhu", preferred_times="weekend")
    with session_scope(url) as session:
        citizens.register_learning_need(session, "telegram:1", need, consent=True)
        citizens.register_learning_need(session, "web:b", need, consent=True)
    with session_scope(url) as session:
        data = citizens.export_citizen_data(session, "telegram:1")
        summary = citizens.needs_summary(session)
    assert data["learning_needs"] == [
        {
            "topic": "Sign language",
            "district": "Nanhu",
            "preferred_times": "weekend",
            "language": None,
            "age_group": None,
        }
    ]
    assert summary["total"] == 2
    assert summary["by_topic"] == {"sign language": 2}
    assert summary["by_district"] == {"Nanhu": 2}


def test_subscriptions_match_topic_and_skip_unreachable(url: str) -> None:
    with session_scope(url) as session:
        assert citizens.subscribe_events(session, "telegram:1", topic="pottery", consent=True)
        assert not citizens.subscribe_events(session, "telegram:1", topic="pottery", consent=True)
        citizens.subscribe_events(session, "wechat:o1", consent=True)
        citizens.subscribe_events(session, "web:z", district="Nanhu", consent=True)
        citizens.mark_unreachable(session, "wechat:o1")
    with session_scope(url) as session:
        assert citizens.subscribers_for(session, topic="Pottery festival", district="Xicheng") == [
            "telegram:1"
        ]
        assert citizens.subscribers_for(session, topic="music", district="Nanhu") == ["web:z"]
        assert citizens.unsubscribe_events(session, "telegram:1") == 1
        assert citizens.subscribers_for(session, topic="pottery") == []


def test_language_preference_survives_new_sessions(url: str) -> None:
    with session_scope(url) as session:
        citizens.set_language(session, "telegram:9", "uk")
    with session_scope(url) as session:
        assert citizens.get_language(session, "telegram:9") == "uk"


def test_erase_citizen_leaves_no_row_in_any_table(url: str) -> None:
    sender = "web:erase-me"
    with session_scope(url) as session:
        citizens.set_language(session, sender, "zh")
        citizens.register_learning_need(
            session, sender, citizens.LearningNeed(topic="陶艺"), consent=True
        )
        citizens.subscribe_events(session, sender, topic="陶艺", consent=True)
        citizens.register_learning_need(
            session, "web:other", citizens.LearningNeed(topic="x"), consent=True
        )
        # Rasa's SQL tracker store table, as Rasa creates it, holding this sender's conversation.
        session.execute(text("CREATE TABLE events (id INTEGER, sender_id VARCHAR(255), data TEXT)"))
        session.execute(
            text("INSERT INTO events (id, sender_id, data) VALUES (1, :s, '{}'), (2, :s, '{}')"),
            {"s": sender},
        )
    with session_scope(url) as session:
        erased = citizens.erase_citizen(session, sender)
    assert erased == {
        "learning_needs": 1,
        "event_subscriptions": 1,
        "citizen_profiles": 1,
        "events": 2,
    }
    engine = get_engine(url)
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            columns = {column["name"] for column in inspect(engine).get_columns(table)}
            if "sender_id" in columns:
                count = connection.execute(
                    text(f"SELECT COUNT(*) FROM {table} WHERE sender_id = :s"), {"s": sender}
                ).scalar_one()
                assert count == 0, f"{table} still holds rows for {sender}"
    with session_scope(url) as session:
        assert (
            citizens.export_citizen_data(session, "web:other")["learning_needs"][0]["topic"] == "x"
        )
