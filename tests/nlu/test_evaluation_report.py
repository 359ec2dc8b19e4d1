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
