"""The prepared action-response validator accepts and refuses exactly what Rasa's own does."""

from __future__ import annotations

from tests.nlu.rasa_venv import run_in_rasa_venv

_SCRIPT = """
import json, sys
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
action = RemoteAction("action_search_courses", None)

def outcome(result):
    try:
        return action._validate_action_result(result)
    except ValidationError as error:
        return "refused: " + error.message.split(". Failed to validate")[0]

cases = json.load(sys.stdin)
original = [outcome(case) for case in cases]
from nlu import action_validation
action_validation.install()
prepared = [outcome(case) for case in cases]
quick = [action_validation.QuickResponseCheck().accepts(case) for case in cases]
print("@@" + json.dumps([original, prepared, quick]))
"""

_CASES = [
    {
        "events": [{"event": "slot", "name": "topic", "value": "pottery"}],
        "responses": [{"text": "Here are pottery courses", "custom": {"cards": []}}],
    },
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "last_search", "value": {"topic": "陶艺", "offset": 5}},
            {"event": "active_loop", "name": "learning_need_form"},
            {"event": "followup", "name": "action_listen"},
            {"event": "bot", "text": "hi", "data": {"custom": {"learncity": {"cards": []}}}},
            {"event": "action", "name": "action_listen", "timestamp": None},
            {"event": "reset_slots", "timestamp": 1700000000.5},
        ],
        "responses": [],
    },
    {"events": [{"event": "slot"}], "responses": []},
    {"events": [{"event": "slot", "name": 7, "value": 1}], "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"event": 5}], "responses": []},
    {"events": ["slot"], "responses": []},
    {"events": [{"name": "topic", "value": "x"}], "responses": []},
    {"events": [{"event": "slot", "name": "t", "value": 1, "timestamp": "noon"}]},
    {"events": [{"event": "action", "name": "a", "metadata": "not an object"}]},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": "not a list"},
    {"events": [], "responses": ["not an object"]},
    "not an object",
]


def test_prepared_validator_accepts_and_refuses_what_rasas_own_does():
    original, prepared, quick = run_in_rasa_venv(_SCRIPT, stdin=_CASES)
    assert original[:3] == [True, True, True]
    assert all(str(outcome).startswith("refused") for outcome in original[3:])
    assert prepared == original
    # The quick check alone accepts exactly the valid responses; the rest get Rasa's error.
    assert quick == [outcome is True for outcome in original]
