"""Runs inside the Rasa venv (Python 3.10): the caching store after PostgreSQL closed its
pooled connections (what a database restart, or a proxy dropping idle connections, does).

The store no longer pings each connection before use; a statement that fails on a closed
connection is run once more. Reads a JSON tracker-store config (PostgreSQL) on stdin, ends
the store's own server connections with `pg_terminate_backend` (no other process's), and
prints `@@` and a JSON object of observations for tests/nlu/test_tracker_store.py.
"""

import asyncio
import json
import logging
import sys

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from nlu.tracker_store import CachingSQLTrackerStore
from tests.nlu.tracker_store_outage_checks import LogLines
from tests.nlu.venv_answer import answer


def _turn(tracker, text):
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("hi"))
    tracker.update(ActionExecuted("action_listen"))


def _user_texts(engine, sender):
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
            {"s": sender},
        ).all()
    return [json.loads(data)["text"] for (data,) in rows]


async def main(config):
    domain = Domain.load("nlu/domain")
    store = CachingSQLTrackerStore(domain=domain, **config)
    backends = []  # the server process of every connection the store's pool opens
    sa.event.listen(
        store.engine, "connect", lambda dbapi, _record: backends.append(dbapi.get_backend_pid())
    )
    lines = LogLines(logging.INFO)
    logger = logging.getLogger("nlu.tracker_store")
    logger.setLevel(logging.INFO)
    logger.addHandler(lines)
    seen = {"pre_ping": store.engine.pool._pre_ping}

    tracker = await store.get_or_create_tracker("web:reconnect")
    _turn(tracker, "first")
    await store.save(tracker)
    tracker = await store.retrieve("web:reconnect")
    seen["backends_before"] = len(set(backends))

    admin = sa.create_engine(store.engine.url)
    with admin.begin() as connection:
        ended = [
            connection.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            for pid in set(backends)
        ]
    seen["terminated"] = sum(1 for done in ended if done)

    try:
        tracker = await store.retrieve("web:reconnect")
        seen["retrieve_after"] = "returned a tracker" if tracker is not None else "nothing"
        _turn(tracker, "second")
        await store.save(tracker)
        seen["save_after"] = "stored"
    except Exception as error:  # what the citizen would get: "try again"
        seen.setdefault("retrieve_after", f"raised {type(error).__name__}")
        seen["save_after"] = f"raised {type(error).__name__}"
    seen["backends_after"] = len(set(backends))
    seen["user_texts"] = _user_texts(admin, "web:reconnect")
    seen["reads"] = dict(store.reads)
    seen["log"] = lines.lines
    admin.dispose()
    return seen


if __name__ == "__main__":
    answer(asyncio.run(main(json.load(sys.stdin))))
