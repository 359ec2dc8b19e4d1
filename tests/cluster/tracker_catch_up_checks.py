"""Runs inside the Rasa venv (Python 3.10): two caching tracker stores taking turns of one
conversation, each read compared with Rasa's own `SQLTrackerStore`.

Reads a JSON tracker-store config (as endpoints.yml holds it, without `type`) on stdin and
prints `@@` and a JSON object of observations for tests/cluster/test_tracker_catch_up.py.
"""

import asyncio
import json
import sys

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import EventVerbosity

from nlu.tracker_store import CachingSQLTrackerStore

SENDER = "telegram:alternating"
LANGUAGES = ("en", "zh", "es", "fr", "ar", "ru", "uk")


def _turn(number):
    return [
        UserUttered(f"message {number}", {"name": "greet", "confidence": 0.9}),
        ActionExecuted("action_greet"),
        BotUttered(f"reply {number}"),
        SlotSet("detected_language", LANGUAGES[number % len(LANGUAGES)]),
        ActionExecuted("action_listen"),
    ]


def _state(tracker):
    return None if tracker is None else tracker.current_state(EventVerbosity.ALL)


async def main(config):
    domain = Domain.load("nlu/domain")
    servers = [CachingSQLTrackerStore(domain=domain, **config) for _ in range(2)]
    rasas_own = SQLTrackerStore(domain=domain, **config)
    seen = {"equal": [], "reads": [], "checkouts": []}
    checkouts = [0]

    def _checked_out(*_):
        checkouts[0] += 1

    for server in servers:
        sa.event.listen(server.engine, "checkout", _checked_out)

    async def turn(number, extra=()):
        """Turn `number` on server `number % 2`: its read against Rasa's own, then the turn."""
        server = servers[number % 2]
        before = dict(server.reads)
        checkouts[0] = 0
        tracker = await server.get_or_create_tracker(SENDER)
        read_checkouts = checkouts[0]
        seen["equal"].append(_state(tracker) == _state(await rasas_own.retrieve(SENDER)))
        seen["reads"].append(
            [key for key, value in server.reads.items() if value != before.get(key, 0)]
        )
        for event in [*extra, *_turn(number)]:
            tracker.update(event)
        checkouts[0] = 0
        await server.save(tracker)
        seen["checkouts"].append([read_checkouts, checkouts[0]])

    for number in range(12):
        await turn(number)
    # A new session begun on server one (turn 12): server two must read the session anew.
    await turn(12, [ActionExecuted("action_session_start"), SessionStarted()])
    for number in range(13, 16):
        await turn(number)
    # A row removed behind both servers' backs (the oldest of the session), then a turn on
    # server two: server one's count no longer adds up, so it reads the session again.
    with servers[0].engine.begin() as connection:
        connection.execute(
            sa.text(
                "DELETE FROM events WHERE id = (SELECT max(id) FROM events WHERE sender_id = :s "
                "AND type_name = 'session_started')"
            ),
            {"s": SENDER},
        )
    await turn(17)
    await turn(18)
    await turn(19)
    seen["final_slot"] = (await servers[1].retrieve(SENDER)).get_slot("detected_language")
    return seen


if __name__ == "__main__":
    observations = asyncio.run(main(json.load(sys.stdin)))
    sys.stdout.write("@@" + json.dumps(observations))
