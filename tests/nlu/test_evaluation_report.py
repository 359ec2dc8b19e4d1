"""The held-out evaluation report: scores, fallback as out_of_scope, entity mistakes listed."""

from nlu.evaluate import build_report, render_markdown
from nlu.nlu_data import Entity, Example


def _example(text: str, intent: str, language: str, entities=()) -> Example:
    return Example(text, intent, language, "test", list(entities))


def _parse(intent: str, entities=()) -> dict:
    return {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities)}


def test_report_scores_languages_counts_fallback_as_out_of_scope_and_lists_entity_mistakes():
    examples = [
        _example("周末的陶艺课", "search_course", "zh", [Entity("schedule", "周末", "weekend")]),
        _example("你多大了", "out_of_scope", "zh"),
        _example("hello", "greet", "en"),
        _example(
            "pottery for kids", "search_course", "en", [Entity("audience", "kids", "children")]
        ),
    ]
    parses = [
        _parse("search_course", [{"entity": "schedule", "start": 0, "end": 2, "value": "weekend"}]),
        _parse("nlu_fallback"),
        _parse("goodbye"),
        _parse("search_course", [{"entity": "topic", "start": 0, "end": 7, "value": "pottery"}]),
    ]

    report = build_report(examples, parses, training_texts=["Hello!"])

    assert report["per_language"]["zh"]["accuracy"] == 1.0
    assert report["per_language"]["en"]["accuracy"] == 0.5
    assert report["verbatim_in_training"] == 1
    assert report["novel_accuracy"] == 1.0
    assert report["out_of_scope"]["recall"] == 1.0
    assert report["out_of_scope"]["fallback_predictions"] == 1
    assert report["confusions"] == [
        {"expected": "greet", "predicted": "goodbye", "count": 1, "example": "hello"}
    ]
    assert report["entities"]["schedule"]["f1"] == 1.0
    assert report["entities"]["audience"]["recall"] == 0.0
    assert report["entity_errors"] == [
        {
            "language": "en",
            "text": "pottery for kids",
            "missed": ["audience=children"],
            "extra": ["topic=pottery"],
        }
    ]
    markdown = render_markdown(report)
    assert "pottery for kids — missed audience=children; extra topic=pottery" in markdown
    assert "| zh | 2 | 1.000" in markdown


def _ranked(text: str, *ranking: tuple[str, float], entities: list | None = None) -> dict:
    return {
        "text": text,
        "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": entities or [],
    }


def test_sources_count_fallback_as_turned_down_and_flag_state_changes_and_confident_mistakes():
    from nlu.eval_sources import render_table, score

    examples = [
        _example("stop all the timers", "out_of_scope", "en"),
        _example("unsubscribe me from the festival news", "out_of_scope", "en"),
        _example("what is the capital of peru", "out_of_scope", "en"),
        _example("pottery for kids", "search_course", "en"),
        _example("切换到派对模式", "out_of_scope", "zh"),
        _example("hold your tongue", "out_of_scope", "en"),
        _example("说西班牙语的国家有哪些", "out_of_scope", "zh"),
    ]
    parses = [
        _ranked("stop all the timers", ("unsubscribe_events", 0.95), ("out_of_scope", 0.03)),
        _ranked(
            "unsubscribe me from the festival news", ("unsubscribe_events", 0.97), ("greet", 0.01)
        ),
        _ranked("what is the capital of peru", ("nlu_fallback", 0.45), ("help", 0.40)),
        _ranked("pottery for kids", ("search_course", 0.99), ("list_events", 0.01)),
        _ranked("切换到派对模式", ("out_of_scope", 0.92), ("set_language", 0.05)),
        # set_language with no language to switch to only asks which one: no state changes.
        _ranked("hold your tongue", ("set_language", 0.96), ("out_of_scope", 0.02)),
        _ranked(
            "说西班牙语的国家有哪些",
            ("set_language", 0.93),
            ("out_of_scope", 0.05),
            entities=[{"entity": "language", "value": "es", "start": 1, "end": 5}],
        ),
    ]

    scores = score(examples, parses)

    assert list(scores) == ["zh", "en", "all"]
    assert scores["en"] == {
        "utterances": 5,
        "in_scope": 1,
        "in_scope_accuracy": 1.0,
        "out_of_scope": 4,
        "oos_turned_down": 0.25,
        "oos_state_changing": 0.5,
        # "stop all the timers" names no news: the guard asks first; the other one it acts on.
        "oos_acted_on": 0.25,
        "oos_language_question": 0.25,
        "confident_wrong": 0.6,
    }
    assert scores["zh"]["oos_turned_down"] == 0.5
    assert scores["zh"]["oos_state_changing"] == 0.5
    assert scores["zh"]["oos_acted_on"] == 0.5
    assert scores["zh"]["oos_language_question"] == 0.0
    assert "| s | en | 5 | 1.000 | 0.250 ✗ | 0.500 ✗ | 0.250 | 0.600 ✗ |" in render_table(
        {"s": scores}
    )


def test_calibration_replays_the_fallback_rule_and_writes_only_the_threshold_numbers(tmp_path):
    import shutil

    from nlu.calibrate import CONFIG_FILE, GUARD_FILE, Item, fallback_reading, write_values

    sure = Item("help", "en", {}, (("help", 0.80), ("greet", 0.10)))
    close_call = Item("help", "en", {}, (("help", 0.50), ("greet", 0.45)))
    assert fallback_reading(sure, 0.6, 0.1) == ("help", 0.80)
    assert fallback_reading(sure, 0.85, 0.1) == ("nlu_fallback", 0.85)
    assert fallback_reading(close_call, 0.4, 0.1) == ("nlu_fallback", 0.4)

    config, guard = tmp_path / "config.yml", tmp_path / "intent_guard.yml"
    shutil.copy(CONFIG_FILE, config)
    shutil.copy(GUARD_FILE, guard)
    write_values(
        {"threshold": 0.7, "ambiguity_threshold": 0.1},
        {
            "default": {"min_confidence": 0.85, "min_margin": 0.3},
            "forget_me": {"min_confidence": 0.95, "min_margin": 0.5},
        },
        config,
        guard,
    )

    assert "- name: FallbackClassifier\n    threshold: 0.70\n    ambiguity_threshold: 0.10" in (
        config.read_text(encoding="utf-8")
    )
    written = guard.read_text(encoding="utf-8")
    assert "  forget_me:\n    min_confidence: 0.95\n    min_margin: 0.50" in written
    assert "  default:\n    min_confidence: 0.85" in written
    assert len(written.splitlines()) == len(GUARD_FILE.read_text(encoding="utf-8").splitlines())


def test_guard_only_calibration_keeps_the_configured_fallback_and_the_config_file(tmp_path):
    """A fallback chosen before the training (nlu.ensemble_replay) must survive a guard
    recalibration: config.yml is a training input, a changed byte means a retraining."""
    import shutil

    from nlu.calibrate import CONFIG_FILE, GUARD_FILE, configured_fallback, write_values

    config, guard = tmp_path / "config.yml", tmp_path / "intent_guard.yml"
    shutil.copy(CONFIG_FILE, config)
    shutil.copy(GUARD_FILE, guard)
    write_values({"threshold": 0.65, "ambiguity_threshold": 0.15}, {}, config, guard)
    before = config.read_bytes()
    assert configured_fallback(config) == (0.65, 0.15)
    write_values(None, {"default": {"min_confidence": 0.75, "min_margin": 0.4}}, config, guard)
    assert config.read_bytes() == before
    assert "  default:\n    min_confidence: 0.75" in guard.read_text(encoding="utf-8")
