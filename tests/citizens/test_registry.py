"""One registry of citizen data: "my data" shows and "forget me" erases every table, on a real
database, and a table naming a citizen that nobody registered fails here."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

import citizens
import helpdesk
import knowledge
from bot.broadcasts import Announcement, broadcast
from bot.channels import web
from citizens.registry import CITIZEN_COLUMNS, registered
from core.database import get_engine, session_scope, upgrade_database
from core.settings import Settings

# Rasa's SQL tracker store table, as Rasa creates it (its columns that matter here).
RASA_EVENTS = "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"


@pytest.fixture
def url(database_url: str) -> str:
    upgrade_database(database_url)
    with session_scope(database_url) as session:
        session.execute(text(RASA_EVENTS))
    return database_url


def _citizen_tables(url: str) -> dict[str, set[str]]:
    """Every table with a column naming a citizen, and those columns."""
    engine = get_engine(url)
    found = {}
    for table in inspect(engine).get_table_names():
        columns = {column["name"] for column in inspect(engine).get_columns(table)}
        if columns & set(CITIZEN_COLUMNS):
            found[table] = columns & set(CITIZEN_COLUMNS)
    return found


def _rows_naming(url: str, sender_id: str) -> dict[str, int]:
    session_id = sender_id.removeprefix("web:")
    counts = {}
    with get_engine(url).connect() as connection:
        for table, columns in _citizen_tables(url).items():
            for column in columns:
                value = session_id if column == "session_id" else sender_id
                counts[f"{table}.{column}"] = connection.execute(
                    text(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = :v'), {"v": value}
                ).scalar_one()
    return counts


def test_every_table_naming_a_citizen_is_registered_for_export_and_erasure(url: str) -> None:
    claimed = {table for kind in registered() for table in kind.tables}
    unclaimed = sorted(set(_citizen_tables(url)) - claimed)
    assert unclaimed == [], f"register these tables in citizens.registry.PROVIDERS: {unclaimed}"


def test_erasure_filters_on_indexed_columns(url: str) -> None:
    """ "forget me" deletes by citizen column: each must be indexed (or lead the primary key)."""
    inspector = inspect(get_engine(url))
    unindexed = []
    for table, columns in _citizen_tables(url).items():
        indexed = {index["column_names"][0] for index in inspector.get_indexes(table)}
        indexed |= set(inspector.get_pk_constraint(table)["constrained_columns"][:1])
        unindexed += [f"{table}.{column}" for column in columns - indexed]
    # Rasa creates its own `events` table with an index on sender_id; this test stands it in.
    assert [name for name in unindexed if not name.startswith("events.")] == []


async def test_my_data_and_forget_me_cover_records_conversation_deliveries_and_outbox(
    url: str,
) -> None:
    sender, other = "web:erase-me", "web:stays"
    with session_scope(url) as session:
        citizens.set_language(session, sender, "zh")
        citizens.register_learning_need(
            session, sender, citizens.LearningNeed(topic="陶艺"), consent=True
        )
        for citizen in (sender, other):
            citizens.subscribe_events(session, citizen, topic="陶艺", consent=True)
        session.execute(
            text("INSERT INTO events (id, sender_id, data) VALUES (1, :s, '{}'), (2, :s, '{}')"),
            {"s": sender},
        )
        helpdesk.request_person(session, sender, channel="web", language="zh")
        for citizen in (sender, other):
            knowledge.record_unmet_demand(session, "养蜂课", "zh", {}, None, citizen)
    helpdesk.desk_turn(url, sender, "请找人帮我")
    announcement = Announcement(texts={"zh": "陶艺节"}, event_id="evt-registry")
    with session_scope(url) as session:
        report = await broadcast(
            announcement, {"web": web.sender(Settings(database_url=url))}, session
        )
    assert report.delivered == 2

    with session_scope(url) as session:
        shown = citizens.export_citizen_data(session, sender)
    assert shown["language"] == "zh"
    assert [need["topic"] for need in shown["learning_needs"]] == ["陶艺"]
    assert shown["subscriptions"] == [{"topic": "陶艺", "district": None}]
    assert shown["conversation_events"] == 2
    assert [d["status"] for d in shown["broadcast_deliveries"]] == ["delivered"]
    assert shown["web_outbox"] == ["陶艺节"]
    assert shown["helpdesk_messages"] == [{"from": "citizen", "text": "请找人帮我"}]
    assert [search["query"] for search in shown["unmet_searches"]] == ["养蜂课"]

    with session_scope(url) as session:
        erased = citizens.erase_citizen(session, sender)
        left_in_transaction = citizens.remaining_rows(session, sender)
    assert erased == {
        "planner_days": 0,  # no dashboard day was kept yet (tests/admin/test_planner_rollups.py)
        "learning_needs": 1,
        "event_subscriptions": 1,
        "citizen_profiles": 1,
        "events": 2,
        "broadcast_deliveries": 1,
        "web_outbox": 1,
        "helpdesk": 2,
        "unmet_demand": 1,
    }
    assert left_in_transaction == {}
    assert {name: n for name, n in _rows_naming(url, sender).items() if n} == {}
    with session_scope(url) as session:
        kept = citizens.export_citizen_data(session, other)
    assert kept["web_outbox"] == ["陶艺节"] and len(kept["broadcast_deliveries"]) == 1
    assert [search["query"] for search in kept["unmet_searches"]] == ["养蜂课"]


def test_the_actions_erasure_leaves_the_conversation_for_the_gateway(url: str) -> None:
    sender = "telegram:77"
    with session_scope(url) as session:
        citizens.subscribe_events(session, sender, consent=True)
        session.execute(
            text("INSERT INTO events (id, sender_id, data) VALUES (9, :s, '{}')"), {"s": sender}
        )
    with session_scope(url) as session:
        erased = citizens.erase_citizen(session, sender, include_conversation=False)
        left = citizens.remaining_rows(session, sender)
    assert "events" not in erased and erased["event_subscriptions"] == 1
    assert left == {"events.sender_id": 1}
