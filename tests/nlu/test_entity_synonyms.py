"""The typed synonym mapper (run in the Rasa venv): normalise per entity type, drop the unusable."""

from __future__ import annotations

from tests.nlu.rasa_venv import run_in_rasa_venv

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
    return run_in_rasa_venv(_SCRIPT, stdin=entities)


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
