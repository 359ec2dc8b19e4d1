"""The prepared action-response validator accepts and refuses exactly what Rasa's own does."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.settings import REPOSITORY_ROOT, get_settings
from nlu.training import rasa_environment

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
print("@@" + json.dumps([original, prepared]))
"""

_CASES = [
    {
        "events": [{"event": "slot", "name": "topic", "value": "pottery"}],
        "responses": [{"text": "Here are pottery courses", "custom": {"cards": []}}],
    },
    {"events": [], "responses": []},
    {"events": [{"event": "slot"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": "not a list"},
]


def test_prepared_validator_accepts_and_refuses_what_rasas_own_does():
    python = get_settings().rasa_venv / "bin" / "python"
    if not python.exists():
        message = f"the Rasa venv is missing at {python.parent.parent}; run `make setup`"
        print(f"\nSKIP: {message}")
        pytest.skip(message)
    completed = subprocess.run(
        [str(python), "-c", _SCRIPT],
        input=json.dumps(_CASES),
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
        env=rasa_environment(),
        check=True,
    )
    original, prepared = json.loads(completed.stdout.split("@@", 1)[1])
    assert original[:2] == [True, True]
    assert all(str(outcome).startswith("refused") for outcome in original[2:])
    assert prepared == original
