"""The typed synonym mapper (run in the Rasa venv): normalise per entity type, drop the unusable."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.settings import REPOSITORY_ROOT, get_settings
from nlu.training import rasa_environment

_SCRIPT = """
import json, sys
from nlu.components.entity_synonyms import TypedEntitySynonymMapper
config = {"normalised_values": {"schedule": ["weekend", "evening"], "language": ["zh", "en"]}}
mapper = TypedEntitySynonymMapper(config, None, None, {"周末": "weekend", "中文": "zh"})
entities = json.load(sys.stdin)
mapper.replace_synonyms(entities)
print("@@" + json.dumps([(e["entity"], e["value"]) for e in entities], ensure_ascii=False))
"""


def _map(entities: list[dict]) -> list[list[str]]:
    python = get_settings().rasa_venv / "bin" / "python"
    if not python.exists():
        message = f"the Rasa venv is missing at {python.parent.parent}; run `make setup`"
        print(f"\nSKIP: {message}")
        pytest.skip(message)
    completed = subprocess.run(
        [str(python), "-c", _SCRIPT],
        input=json.dumps(entities),
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
        env=rasa_environment(),
        check=True,
    )
    return json.loads(completed.stdout.split("@@", 1)[1])


def test_synonyms_apply_per_type_and_values_outside_the_list_are_dropped():
    mapped = _map(
        [
            {"entity": "schedule", "value": "周末"},
            {"entity": "schedule", "value": "Evening"},
            {"entity": "schedule", "value": "settings"},
            {"entity": "language", "value": "中文"},
            {"entity": "topic", "value": "中文"},
        ]
    )
    assert mapped == [
        ["schedule", "weekend"],
        ["schedule", "evening"],
        ["language", "zh"],
        ["topic", "中文"],
    ]
