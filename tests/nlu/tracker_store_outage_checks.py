"""Runs inside the Rasa venv (Python 3.10): what a turn gets when the database fails.

Reads a JSON tracker-store config (as endpoints.yml holds it, without `type`) on stdin and
prints `@@` and a JSON object of observations for tests/nlu/test_tracker_store.py. The
database "fails" by losing its `events` table behind the stores' backs (a real error from the
real driver, on SQLite and PostgreSQL alike); Rasa's own store, wrapped as Rasa wraps it, is
observed side by side.
"""

import asyncio
import json
import logging
import sys

import sqlalchemy as sa
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from nlu.tracker_store import CachingSQLTrackerStore


class LogLines(logging.Handler):
    """Every record of `level` and above, as (level name, message)."""

    def __init__(self, level=logging.WARNING):
        super().__init__(level)
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelname, record.getMessage()))


async def _outcome(call):
    try:
        result = await call
    except Exception as error:
        return f"raised {type(error).__name__}"
    return "returned nothing" if result is None else "returned a tracker"


async def main(config):
    domain = Domain.load("nlu/domain")
    ours = Agent(domain=domain, tracker_store=CachingSQLTrackerStore(domain=domain, **config))
    rasas = Agent(domain=domain, tracker_store=SQLTrackerStore(domain=domain, **config))
    lines = LogLines()
    logging.getLogger("nlu.tracker_store").addHandler(lines)
    seen = {
        "ours_unwrapped": type(ours.tracker_store).__name__,
        "rasas_wrapped": isinstance(rasas.tracker_store, FailSafeTrackerStore),
    }
    for agent in (ours, rasas):
        tracker = await agent.tracker_store.get_or_create_tracker("web:outage")
        tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("utter_greet"))
        tracker.update(BotUttered("hi"))
        await agent.tracker_store.save(tracker)
    seen["before"] = await _outcome(ours.tracker_store.retrieve("web:outage"))

    engine = sa.create_engine(ours.tracker_store.engine.url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE events RENAME TO events_away"))
    try:
        seen["ours_retrieve"] = await _outcome(ours.tracker_store.retrieve("web:outage"))
        seen["rasas_retrieve"] = await _outcome(rasas.tracker_store.retrieve("web:outage"))
        fresh = await rasas.tracker_store.get_or_create_tracker("web:other")
        fresh.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
        seen["ours_save"] = await _outcome(ours.tracker_store.save(fresh))
        seen["rasas_save"] = await _outcome(rasas.tracker_store.save(fresh))
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE events_away RENAME TO events"))
    seen["after"] = await _outcome(ours.tracker_store.retrieve("web:outage"))
    seen["log"] = lines.lines
    engine.dispose()
    print("@@" + json.dumps(seen))


if __name__ == "__main__":
    asyncio.run(main(json.load(sys.stdin)))
