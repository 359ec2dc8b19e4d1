"""Runs inside the Rasa venv (Python 3.10): the caching tracker store against Rasa's own.

Reads a JSON tracker-store config (as endpoints.yml holds it, without `type`) on stdin and
prints `@@` and a JSON object of observations for tests/nlu/test_tracker_store.py to check.
"""

import asyncio
import json
import sys

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from nlu.tracker_store import CachingSQLTrackerStore


def _turn(text, intent, action, reply, slot_value):
    return [
        UserUttered(text, {"name": intent, "confidence": 0.9}),
        ActionExecuted(action),
        BotUttered(reply),
        SlotSet("detected_language", slot_value),
        ActionExecuted("action_listen"),
    ]


def _dump(tracker):
    return None if tracker is None else [e.as_dict() for e in tracker.events]


def _rows(engine, sender):
    with engine.connect() as connection:
        return [
            list(row)
            for row in connection.execute(
                sa.text(
                    "SELECT type_name, intent_name, action_name, data FROM events "
                    "WHERE sender_id = :s ORDER BY id"
                ),
                {"s": sender},
            )
        ]


async def main(config):
    domain = Domain.load("nlu/domain")
    server_one = CachingSQLTrackerStore(domain=domain, **config)
    server_two = CachingSQLTrackerStore(domain=domain, **config)
    rasas_own = SQLTrackerStore(domain=domain, **config)
    seen = {}

    tracker = await server_one.get_or_create_tracker("web:1")
    for event in _turn("hello", "greet", "action_greet", "Hi!", "en"):
        tracker.update(event)
    await server_one.save(tracker)
    again = await server_one.retrieve("web:1")
    seen["first_turn_equal"] = _dump(again) == _dump(await rasas_own.retrieve("web:1"))

    for event in _turn("pottery?", "search_course", "action_search_courses", "Cards", "en"):
        again.update(event)
    await server_one.save(again)
    seen["second_turn_equal"] = _dump(await server_one.retrieve("web:1")) == _dump(
        await rasas_own.retrieve("web:1")
    )
    seen["slot_after_two_turns"] = (await server_one.retrieve("web:1")).get_slot(
        "detected_language"
    )

    # The same conversation written the way Rasa's own store writes it, for another sender.
    reference = await rasas_own.get_or_create_tracker("web:reference")
    for event in list(again.events):
        reference.update(event)
    await rasas_own.save(reference)
    ours, theirs = _rows(server_one.engine, "web:1"), _rows(rasas_own.engine, "web:reference")
    seen["rows_like_rasas_own"] = len(ours) > 0 and ours == theirs[-len(ours) :]

    # Another Rasa server answers a turn of the same conversation: the first one sees it.
    elsewhere = await server_two.retrieve("web:1")
    for event in _turn("in Nanhu", "inform", "action_search_courses", "More cards", "zh"):
        elsewhere.update(event)
    await server_two.save(elsewhere)
    after = await server_one.retrieve("web:1")
    seen["sees_other_server_turn"] = _dump(after) == _dump(await rasas_own.retrieve("web:1"))
    seen["slot_from_other_server"] = after.get_slot("detected_language")

    # And server one's next turn is stored after it, not over it.
    for event in _turn("thanks", "goodbye", "action_say_goodbye", "Bye", "zh"):
        after.update(event)
    await server_one.save(after)
    seen["rows_after_both_servers"] = len(_rows(server_one.engine, "web:1"))
    seen["events_after_both_servers"] = len(after.events)

    # A new session in the middle of a turn: only the latest session is read back.
    for event in [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        *_turn("hola", "greet", "action_greet", "¡Hola!", "es"),
    ]:
        after.update(event)
    await server_one.save(after)
    cached_session = _dump(await server_one.retrieve("web:1"))
    seen["new_session_equal"] = cached_session == _dump(await rasas_own.retrieve("web:1"))
    seen["new_session_first_event"] = cached_session[0]["event"]

    # "Forget me": the gateway deletes the rows; no server may bring the conversation back.
    with server_one.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'web:1'"))
    seen["after_erase_server_one"] = _dump(await server_one.retrieve("web:1"))
    seen["after_erase_server_two"] = _dump(await server_two.retrieve("web:1"))
    fresh = await server_one.get_or_create_tracker("web:1")
    fresh.update(UserUttered("hi again", {"name": "greet", "confidence": 0.9}))
    await server_one.save(fresh)
    seen["rows_after_erase_and_new_turn"] = len(_rows(server_one.engine, "web:1"))
    seen["events_after_erase_and_new_turn"] = len(fresh.events)

    seen["planners_index"] = [
        index["column_names"]
        for index in sa.inspect(server_one.engine).get_indexes("events")
        if index["name"] == "ix_events_kind_time"
    ]
    with server_one.engine.connect() as connection:
        seen["sqlite_synchronous"] = (
            connection.exec_driver_sql("PRAGMA synchronous").scalar()
            if server_one.engine.dialect.name == "sqlite"
            else None
        )
    return seen


if __name__ == "__main__":
    observations = asyncio.run(main(json.load(sys.stdin)))
    sys.stdout.write("@@" + json.dumps(observations))
