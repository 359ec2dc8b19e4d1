"""Runs inside the Rasa venv (Python 3.10): the state copy of a tracker against Rasa's replay.

Usage: python tests/nlu/tracker_copy_checks.py DOMAIN_DIR < events.json
Replays a recorded conversation event by event and, after each event, copies the tracker
both ways. Prints `@@` and a JSON object: every point where the two copies differ (what
`current_state` shows, every attribute, the states the policies see), and the time per copy
of each over the last 50 events.
"""

import dataclasses
import json
import sys
import time

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from nlu import tracker_copy


def _plain(value):
    if isinstance(value, Event):  # an empty latest message is new in each tracker: no time
        return ["event", {key: item for key, item in value.as_dict().items() if key != "timestamp"}]
    if isinstance(value, Slot):
        return ["slot", type(value).__name__, repr(value.value), value.has_been_set]
    if dataclasses.is_dataclass(value):
        return ["loop", repr(dataclasses.asdict(value))]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "deque":
        return [_plain(item) for item in value]
    return repr(value)


def _seen(tracker, domain):
    return {
        "attributes": {name: _plain(value) for name, value in vars(tracker).items()},
        "current_state": tracker.current_state(EventVerbosity.ALL),
        "past_states": tracker.past_states(domain),
        "events_maxlen": tracker.events.maxlen,
    }


def main(domain_dir, recorded):
    domain = Domain.load(domain_dir)
    tracker = DialogueStateTracker("copies", domain.slots)
    differences = []
    timings = {"rasa": [], "by_state": []}
    for index, data in enumerate(recorded):
        tracker.update(Event.from_parameters(data))
        started = time.perf_counter()
        replayed = DialogueStateTracker.copy(tracker)
        timings["rasa"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        by_state = tracker_copy.copy_by_state(tracker)
        timings["by_state"].append((time.perf_counter() - started) * 1000)
        if _seen(replayed, domain) != _seen(by_state, domain):
            differences.append({"event": index, "type": data.get("event")})
        by_state.update(Event.from_parameters({"event": "action", "name": "action_listen"}))
        if len(by_state.events) == len(tracker.events):
            differences.append({"event": index, "type": "copy shares its events with the original"})
    result = {"events": len(recorded), "differences": differences}
    for name, values in timings.items():
        tail = values[-50:]
        result[f"{name}_ms"] = sum(tail) / max(1, len(tail))
    return result


if __name__ == "__main__":
    result = main(sys.argv[1], json.load(sys.stdin))
    sys.stdout.write("@@" + json.dumps(result, ensure_ascii=False))
