"""The caching SQL tracker store reads and writes exactly what Rasa's own SQL store does.

Checked inside the Rasa venv on a temp SQLite file and, when it answers, on PostgreSQL: two
Rasa servers sharing one conversation, a new session, and a conversation erased behind the
store's back (what "forget me" does) that must not come back from memory.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

import citizens
from core.database import session_scope
from nlu.serving import TRACKER_STORE_TYPE, tracker_store_config
from tests.nlu.rasa_venv import run_in_rasa_venv

CHECKS = Path(__file__).with_name("tracker_store_checks.py")


def _observe(database_url: str) -> dict:
    return run_in_rasa_venv(CHECKS, stdin=_store_config(database_url))


def _store_config(database_url: str) -> dict:
    """The store's keyword arguments as endpoints.yml gives them, without `type`."""
    config = tracker_store_config(database_url)
    assert config.pop("type") == TRACKER_STORE_TYPE
    options = make_url(database_url).query.get("options")
    if options:  # the test schema of a PostgreSQL run
        config["query"] = {"options": options}
    if "url" in config:
        config["host"] = config.pop("url")
    return config


def test_caching_store_matches_rasas_own_across_servers_sessions_and_erasure(
    database_url: str,
) -> None:
    seen = _observe(database_url)
    assert seen["first_turn_equal"] is True
    assert seen["second_turn_equal"] is True
    assert seen["slot_after_two_turns"] == "en"
    assert seen["rows_like_rasas_own"] is True
    assert seen["sees_other_server_turn"] is True
    assert seen["slot_from_other_server"] == "zh"
    assert seen["rows_after_both_servers"] == seen["events_after_both_servers"]
    assert seen["new_session_equal"] is True
    assert seen["new_session_first_event"] == "session_started"
    assert seen["after_erase_server_one"] is None
    assert seen["after_erase_server_two"] is None
    assert seen["rows_after_erase_and_new_turn"] == seen["events_after_erase_and_new_turn"]
    # The index the planners' totals read (nlu/tracker_indexes.py), added when Rasa starts.
    assert seen["planners_index"] == [["type_name", "action_name", "timestamp", "sender_id"]]
    with session_scope(database_url) as session:
        totals = citizens.conversation_totals(
            session,
            datetime.now(UTC) - timedelta(hours=1),
            datetime.now(UTC) + timedelta(hours=1),
            ("action_search_courses",),
        )
    # Rows Rasa itself wrote: web:1 was erased ("forget me"), so only the search in
    # web:reference's copy of its first two turns is left; that copy never started a session.
    assert (totals.citizens, totals.conversations, totals.searches) == (0, 0, 1)
    if database_url.startswith("sqlite"):
        assert seen["sqlite_synchronous"] == 1  # NORMAL


OUTAGE_CHECKS = Path(__file__).with_name("tracker_store_outage_checks.py")


def test_a_database_error_fails_the_turn_instead_of_forgetting_the_conversation(
    database_url: str,
) -> None:
    """Rasa's `FailSafeTrackerStore` reads "no conversation" and writes to memory when the
    database fails (a reset context, a turn never stored, a normal-looking reply); ours
    raises, so the turn fails, and logs the outage once when it starts and once when it ends."""
    seen = run_in_rasa_venv(OUTAGE_CHECKS, stdin=_store_config(database_url))

    assert seen["ours_unwrapped"] == "CachingSQLTrackerStore"
    assert seen["rasas_wrapped"] is True
    assert seen["before"] == "returned a tracker"
    assert seen["ours_retrieve"] == "raised ConversationStoreUnavailableError"
    assert seen["ours_save"] == "raised ConversationStoreUnavailableError"
    # What Rasa's own store does with the same error: the silent loss this store refuses.
    assert seen["rasas_retrieve"] == "returned nothing"
    assert seen["rasas_save"] == "returned nothing"
    assert seen["after"] == "returned a tracker"
    levels = [level for level, _ in seen["log"]]
    assert levels == ["ERROR", "WARNING"], seen["log"]
    assert "conversation database unavailable" in seen["log"][0][1]
    assert "back after" in seen["log"][1][1] and "2 turns failed" in seen["log"][1][1]


RECONNECT_CHECKS = Path(__file__).with_name("tracker_store_reconnect_checks.py")


def test_connections_postgresql_closed_are_replaced_without_failing_a_turn(
    postgres_database_url: str,
) -> None:
    """No ping before each use (two round trips a turn): a turn whose pooled connection the
    server closed runs its statement once more on a new one, and is stored once."""
    seen = run_in_rasa_venv(RECONNECT_CHECKS, stdin=_store_config(postgres_database_url))

    assert seen["pre_ping"] is False
    assert seen["terminated"] == seen["backends_before"] >= 1
    assert seen["retrieve_after"] == "returned a tracker"
    assert seen["save_after"] == "stored"
    assert seen["backends_after"] > seen["backends_before"], "a new connection replaced it"
    assert seen["user_texts"] == ["first", "second"], "each turn stored once"
    assert [level for level, _ in seen["log"]] == ["INFO"], seen["log"]
    assert "once more" in seen["log"][0][1]
