"""Seeding a database the way the running assistant fills it, for the planner dashboard's
benchmark and tests: Rasa's conversation events, learning needs, unmet searches.

Rasa's SQL tracker store creates its `events` table itself when it starts; here the same
columns are created (rasa.core.tracker_store.SQLTrackerStore.SQLEvent, Rasa 3.6) so the
dashboard's queries meet the table they meet in production. Events are written with COPY on
PostgreSQL and multi-row INSERTs on SQLite.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from nlu.tracker_indexes import ensure_events_index

RASA_EVENTS_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS events (id {id_type} PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)
# Questions citizens ask that the catalog may not answer, in several languages and spellings:
# what the dashboard's grouping must bring together.
UNMET_QUESTIONS = (
    ("beekeeping", "en"), ("beekeping", "en"), ("bee keeping", "en"), ("养蜂", "zh"),
    ("library", "en"), ("libary", "en"), ("biblioteca", "es"), ("bibliothèque", "fr"),
    ("مكتبة", "ar"), ("библиотека", "ru"), ("библиотеки", "ru"), ("бібліотека", "uk"),
    ("scuba diving", "en"), ("潜水", "zh"), ("plongée", "fr"), ("woodworking", "en"),
    ("木工", "zh"), ("carpintería", "es"), ("sign language for kids", "en"), ("手语", "zh"),
)  # fmt: skip
NEED_TOPICS = ("sign language", "古筝", "python", "pottery", "英语口语", "swimming", "cooking")
DISTRICTS = ("Nanhu", "Dongcheng", "Xicheng", "Beishan", None)
LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru", "uk")
TIMES = ("weekday evening", "weekend", "weekday morning", None)
AGE_GROUPS = ("children", "adults", "seniors", None)
SEARCH_ACTIONS = ("action_search_courses", "action_find_learning_spaces", "action_list_events")
_BATCH = 2000


@dataclass(frozen=True)
class Conversation:
    """One Rasa session: its sender, when it started, and how many turns it had."""

    sender_id: str
    started: datetime
    turns: int
    searches: int  # how many of the turns ran a search


def create_rasa_events_table(engine: Engine) -> None:
    """Rasa's `events` table (its columns and sender index) and the index our tracker store
    adds when Rasa starts, when Rasa has not made them."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        id_type = "SERIAL" if postgres else "INTEGER"
        connection.execute(text(RASA_EVENTS_TABLE_SQL.format(id_type=id_type)))
        connection.execute(
            text("CREATE INDEX IF NOT EXISTS ix_events_sender_id ON events (sender_id)")
        )
        ensure_events_index(connection)


def write_conversations(engine: Engine, conversations: Sequence[Conversation]) -> int:
    """The events Rasa stores for these conversations (session start, each user message and
    the action that answered it); returns how many rows were written."""
    create_rasa_events_table(engine)
    if engine.dialect.name == "postgresql":
        return _copy_events(engine, conversations)
    written = 0
    with engine.begin() as connection:
        for batch in _batches(_events(conversations)):
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                    "action_name, data) VALUES (:sender_id, :type_name, :timestamp, "
                    ":intent_name, :action_name, :data)"
                ),
                batch,
            )
            written += len(batch)
    return written


def random_conversations(
    events: int, days: int, *, seed: int = 12, now: datetime | None = None
) -> list[Conversation]:
    """About `events` events' worth of conversations spread over the last `days` days, from
    a fifth as many citizens as conversations."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    conversations: list[Conversation] = []
    total = 0
    citizens = max(1, events // 40)
    while total < events:
        turns = rng.randint(1, 8)
        searches = rng.randint(0, turns)
        started = now - timedelta(seconds=rng.uniform(60, days * 86_400))
        sender = f"telegram:{rng.randrange(citizens)}"
        conversations.append(Conversation(sender, started, turns, searches))
        total += 1 + 2 * turns
    return conversations


def random_needs_and_unmet(
    needs: int, unmet: int, days: int, *, seed: int = 7
) -> tuple[list[dict], list[dict]]:
    """Rows for `learning_needs` and `unmet_demand` spread over the last `days` days."""
    rng = random.Random(seed)
    now = datetime.now(UTC)

    def moment() -> datetime:
        return now - timedelta(seconds=rng.uniform(60, days * 86_400))

    need_rows = [
        {
            "sender_id": f"telegram:{rng.randrange(max(1, needs // 3))}",
            "topic": rng.choice(NEED_TOPICS),
            "district": rng.choice(DISTRICTS),
            "preferred_times": rng.choice(TIMES),
            "language": rng.choice(LANGUAGES),
            "age_group": rng.choice(AGE_GROUPS),
            "consent_given_at": (at := moment()),
            "created_at": at,
        }
        for _ in range(needs)
    ]
    unmet_rows = []
    for _ in range(unmet):
        query, language = rng.choice(UNMET_QUESTIONS)
        filters = rng.choice(({}, {"audience": "children"}, {"time_of_day": "weekend"}))
        unmet_rows.append(
            {
                "sender_id": f"telegram:{rng.randrange(max(1, unmet // 4))}",
                "query": query,
                "language": language,
                "filters": json.dumps(filters),
                "district": rng.choice(DISTRICTS),
                "created_at": moment(),
            }
        )
    return need_rows, unmet_rows


def write_needs_and_unmet(engine: Engine, needs: list[dict], unmet: list[dict]) -> None:
    """Rows straight into the two tables (made by the packages' migrations beforehand)."""
    with engine.begin() as connection:
        for batch in _batches(iter(needs)):
            connection.execute(
                text(
                    "INSERT INTO learning_needs (sender_id, topic, district, preferred_times, "
                    "language, age_group, consent_given_at, created_at) VALUES (:sender_id, "
                    ":topic, :district, :preferred_times, :language, :age_group, "
                    ":consent_given_at, :created_at)"
                ),
                batch,
            )
        for batch in _batches(iter(unmet)):
            connection.execute(
                text(
                    "INSERT INTO unmet_demand (sender_id, query, language, filters, district, "
                    "created_at) VALUES (:sender_id, :query, :language, :filters, :district, "
                    ":created_at)"
                ),
                batch,
            )


_EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


def _copy_events(engine: Engine, conversations: Sequence[Conversation]) -> int:
    """PostgreSQL's COPY, 100,000 rows at a time: a million events in seconds, not minutes."""
    written = 0
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        columns = ", ".join(_EVENT_COLUMNS)
        for batch in _batches(_events(conversations), 100_000):
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in batch:
                writer.writerow(["" if row[c] is None else row[c] for c in _EVENT_COLUMNS])
            buffer.seek(0)
            cursor.copy_expert(  # type: ignore[attr-defined]
                f"COPY events ({columns}) FROM STDIN WITH (FORMAT csv, NULL '')", buffer
            )
            written += len(batch)
        connection.commit()
    finally:
        connection.close()
    return written


def _events(conversations: Sequence[Conversation]) -> Iterator[dict]:
    for conversation in conversations:
        at = conversation.started.timestamp()
        yield _event(conversation.sender_id, "session_started", at)
        for turn in range(conversation.turns):
            at += 20
            searching = turn < conversation.searches
            intent = "search_course" if searching else "greet"
            yield _event(conversation.sender_id, "user", at, intent=intent)
            action = SEARCH_ACTIONS[turn % len(SEARCH_ACTIONS)] if searching else "utter_greet"
            yield _event(conversation.sender_id, "action", at + 1, action=action)


def _event(
    sender: str, kind: str, at: float, *, intent: str | None = None, action: str | None = None
) -> dict:
    data = {"event": kind, "timestamp": at}
    if intent:
        data["parse_data"] = {"intent": {"name": intent}}  # type: ignore[assignment]
    if action:
        data["name"] = action  # type: ignore[assignment]
    return {
        "sender_id": sender,
        "type_name": kind,
        "timestamp": at,
        "intent_name": intent,
        "action_name": action,
        "data": json.dumps(data),
    }


def _batches(rows: Iterator[dict], size: int = _BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
