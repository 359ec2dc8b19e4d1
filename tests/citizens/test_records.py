"""Citizen records on a real database: consent, export, erase."""

from __future__ import annotations

import pytest

import citizens
from core.database import session_scope, upgrade_database


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
        assert citizens.subscribers_for(session, topic="pottery", district="Xicheng") == []


def test_announcement_without_topic_or_district_reaches_every_subscriber(url: str) -> None:
    """`learncity broadcast` without --topic/--district had matched no one subscribed to a
    topic or a district (issue 9, item 17)."""
    with session_scope(url) as session:
        citizens.subscribe_events(session, "telegram:7", topic="pottery", consent=True)
        citizens.subscribe_events(session, "web:nanhu", district="Nanhu", consent=True)
        citizens.subscribe_events(session, "wechat:oall", consent=True)
    with session_scope(url) as session:
        everyone = ["telegram:7", "web:nanhu", "wechat:oall"]
        assert citizens.subscribers_for(session) == everyone
        assert citizens.subscribers_for(session, topic="pottery") == everyone
        assert citizens.subscribers_for(session, district="Beishan") == [
            "telegram:7",
            "wechat:oall",
        ]
        assert citizens.subscribers_for(session, topic="music", district="Beishan") == [
            "wechat:oall"
        ]


def test_language_preference_survives_new_sessions(url: str) -> None:
    with session_scope(url) as session:
        citizens.set_language(session, "telegram:9", "uk")
    with session_scope(url) as session:
        assert citizens.get_language(session, "telegram:9") == "uk"
