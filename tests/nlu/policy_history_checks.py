"""Runs inside the Rasa venv (Python 3.10): the policies on a bounded history against Rasa's own.

Usage: python tests/nlu/policy_history_checks.py MODEL.tar.gz < events.json
Replays a recorded conversation (its events as Rasa stores them) and, before every action in
it, asks the model for the next action twice: with Rasa's own `past_states` (the whole
session) and with `nlu.policy_history` installed (the recent window). Prints `@@` and a JSON
object: both predictions at every point (with the states each policy read), how many points used a window, and the time per
prediction of each over the last 50 points.
"""

import asyncio
import json
import sys
import time

from rasa.core.agent import Agent
from rasa.core.policies.policy import Policy
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from nlu import policy_history
from tests.nlu.venv_answer import answer


def _use(pair):
    Policy._prediction_states, DialogueStateTracker.past_states = pair


def _timeless(event):
    """The event as a dict, without the time it was created (each prediction makes its own)."""
    return {key: value for key, value in event.as_dict().items() if key != "timestamp"}


def _described(prediction, domain):
    best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
    return {
        "action": domain.action_names_or_texts[best],
        "policy": prediction.policy_name,
        "probabilities": [round(value, 6) for value in prediction.probabilities],
        "hide_rule_turn": prediction.hide_rule_turn,
        "events": [_timeless(event) for event in prediction.events],
        "optional_events": [_timeless(event) for event in prediction.optional_events],
    }


async def main(model, recorded):
    agent = Agent.load(model)
    processor = agent.processor
    domain = processor.domain
    rasa_own = (policy_history._rasa_prediction_states, policy_history._rasa_past_states)
    policy_history.install()
    bounded = (Policy._prediction_states, DialogueStateTracker.past_states)
    policies = [
        node._component
        for node in processor.graph_runner._instantiated_nodes.values()
        if isinstance(node._component, Policy)
    ]
    seen_policies = sorted(type(policy).__name__ for policy in policies)
    events = [Event.from_parameters(data) for data in recorded]
    tracker = DialogueStateTracker("differential", domain.slots)
    seen = {"rasa": [], "bounded": [], "windowed": 0, "points": 0, "events": len(events)}
    seen["policies"] = seen_policies
    timings = {"rasa": [], "bounded": []}
    for index, event in enumerate(events):
        if index > 2 and isinstance(event, ActionExecuted):
            seen["points"] += 1
            window = policy_history.recent_window(tracker, domain, 8, False)
            seen["windowed"] += window is not None
            for name, pair in (("rasa", rasa_own), ("bounded", bounded)):
                _use(pair)
                started = time.perf_counter()
                # A fresh copy each time: predicting consumes a follow-up action.
                prediction = processor._predict_next_with_tracker(tracker.copy())
                timings[name].append((time.perf_counter() - started) * 1000)
                described = _described(prediction, domain)
                # The states each policy reads: the last `states_needed` of what it is given.
                described["states"] = {
                    type(policy).__name__: policy._prediction_states(tracker.copy(), domain)[
                        -policy_history.states_needed(policy) :
                    ]
                    for policy in policies
                }
                seen[name].append(described)
        tracker.update(event)
    _use(rasa_own)
    for name, values in timings.items():
        tail = values[-50:]
        seen[f"{name}_ms"] = sum(tail) / max(1, len(tail))
    return seen


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], json.load(sys.stdin)))
    answer(result)
