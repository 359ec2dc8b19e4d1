"""The offline replay of the meaning ensemble scores what the component would answer."""

from __future__ import annotations

from nlu.calibrate import Item
from nlu.ensemble_replay import REPHRASED, replay, summary


def _item(gold: str, language: str, ranking: list[tuple[str, float]]) -> Item:
    parsed = {"intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}
    return Item(gold, language, parsed, tuple(ranking))


ROWS = [
    # Out of scope that DIET reads, by its words, as a state-changing intent.
    (
        "tatoeba (validation)",
        _item("out_of_scope", "en", [("unsubscribe_events", 0.97), ("out_of_scope", 0.03)]),
    ),
    (REPHRASED, _item("search_course", "es", [("search_course", 0.9), ("out_of_scope", 0.1)])),
]
MEANING = [
    {"unsubscribe_events": 0.02, "out_of_scope": 0.98},
    {"search_course": 0.8, "out_of_scope": 0.2},
]


def test_weight_zero_replays_the_model_as_it_is():
    assert replay(ROWS, MEANING, 0.0) == ROWS


def test_the_combined_ranking_turns_down_what_meaning_says_is_out_of_scope():
    before, after = summary(ROWS), summary(replay(ROWS, MEANING, 0.7))
    assert before["oos_state_changing"] == 1.0 and before["confident_wrong"] == 0.5
    assert after["oos_state_changing"] == 0.0 and after["confident_wrong"] == 0.0
    assert after["oos_turned_down"] == {"en": 1.0}
    assert after["rephrased"] == {"es": 1.0}
    _, item = replay(ROWS, MEANING, 0.7)[0]
    assert item.parsed["intent"]["name"] == "out_of_scope" == item.ranking[0][0]
