"""Runs inside the Rasa venv (Python 3.10): what the patched Rasa sends the action server.

Prints `@@` and a JSON object of observations for tests/nlu/test_action_calls.py to check.
"""

import asyncio

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from nlu import action_calls
from tests.nlu.venv_answer import answer


def _tracker(domain):
    tracker = DialogueStateTracker("web:1", domain.slots)
    for event in [
        ActionExecuted("action_listen"),
        UserUttered("pottery?", {"name": "search_course", "confidence": 0.9}),
        SlotSet("detected_language", "en"),
        ActionExecuted("action_search_courses"),
        BotUttered("Cards"),
        ActionExecuted("action_listen"),
        UserUttered("in Nanhu", {"name": "inform", "confidence": 0.9}),
        SlotSet("need_district", "Nanhu"),
    ]:
        tracker.update(event)
    return tracker


async def main():
    domain = Domain.load("nlu/domain")
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook")
    action = RemoteAction("action_search_courses", endpoint)
    tracker = _tracker(domain)
    before = action._action_call_format(tracker, domain)
    action_calls.install()
    after = action._action_call_format(tracker, domain)
    seen = {
        "events_before": [e["event"] for e in before["tracker"]["events"]],
        "events_after": [e["event"] for e in after["tracker"]["events"]],
        "same_state_but_events": {k: v for k, v in before["tracker"].items() if k != "events"}
        == {k: v for k, v in after["tracker"].items() if k != "events"},
        "same_body_but_tracker": {k: v for k, v in before.items() if k != "tracker"}
        == {k: v for k, v in after.items() if k != "tracker"},
        "district_slot": after["tracker"]["slots"].get("need_district"),
        "language_slot": after["tracker"]["slots"].get("detected_language"),
        "latest_text": after["tracker"]["latest_message"]["text"],
    }
    async with endpoint.session() as first:
        pass
    async with endpoint.session() as second:
        seen["session_kept_open"] = first is second and not second.closed
    await second.close()
    async with endpoint.session() as third:
        seen["closed_session_replaced"] = third is not second and not third.closed
    await third.close()
    return seen


if __name__ == "__main__":
    answer(asyncio.run(main()))
