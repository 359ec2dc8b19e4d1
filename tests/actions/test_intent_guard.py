"""When a state-changing intent is acted on, asked about, or offered beside the next reading.

The parses below are what the trained model (learncity-dbe26e638ff42127) returned for the
issue's examples (`nlu.parse_batch`, 2026-12-01): confident and wrong, so the words decide.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.intent_guard import (
    ACT,
    CHOOSE,
    CONFIRM,
    GuardFileError,
    assess,
    is_payload,
    load_policy,
)


def _parsed(text: str, *ranking: tuple[str, float], entities: list | None = None) -> dict:
    return {
        "text": text,
        "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
        "intent_ranking": [{"name": name, "confidence": c} for name, c in ranking],
        "entities": entities or [],
    }


@pytest.mark.parametrize(
    ("text", "intent", "second"),
    [
        ("切换到派对模式", "set_language", "forget_me"),
        ("stop all the timers", "unsubscribe_events", "goodbye"),
        ("把厨房的灯关掉", "unsubscribe_events", "forget_me"),
        ("Supprime la minuterie", "forget_me", "set_language"),
        ("включи ночную лампу", "subscribe_events", "my_data"),
        ("can i put in a pto request for august 1st", "register_interest", "help"),
        ("annuler", "unsubscribe_events", "show_more"),
        ("إلغاء", "unsubscribe_events", "show_more"),
    ],
)
def test_confident_out_of_scope_text_is_asked_about_not_acted_on(
    text: str, intent: str, second: str
) -> None:
    verdict = assess(_parsed(text, (intent, 0.99), (second, 0.01)), intent)
    assert verdict.decision == CONFIRM, verdict


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("stop the festival news", "unsubscribe_events"),
        ("unsubscribe", "unsubscribe_events"),
        ("退订学习节消息", "unsubscribe_events"),
        ("subscribe to events in Nanhu", "subscribe_events"),
        ("订阅活动消息", "subscribe_events"),
        ("forget me", "forget_me"),
        ("Oublie mes données", "forget_me"),
        ("забудь мої дані", "forget_me"),
        ("change language", "set_language"),
        ("切换语言", "set_language"),
        ("please register my interest in pottery", "register_interest"),
        ("quiero registrar mi interés en carpintería", "register_interest"),
    ],
)
def test_genuine_requests_are_acted_on(text: str, intent: str) -> None:
    assert assess(_parsed(text, (intent, 1.0), ("help", 0.0)), intent).decision == ACT


def test_a_language_named_by_the_caller_is_enough_for_set_language() -> None:
    parsed = _parsed("English please", ("set_language", 1.0), ("show_more", 0.0))
    assert assess(parsed, "set_language", names_target=True).decision == ACT


def test_an_unsure_reading_offers_the_two_best_as_choices() -> None:
    verdict = assess(
        _parsed("stop the news", ("unsubscribe_events", 0.55), ("list_events", 0.40)),
        "unsubscribe_events",
    )
    assert verdict.decision == CHOOSE
    assert [r.intent for r in verdict.readings] == ["unsubscribe_events", "list_events"]
    # Confident enough, but the margin is too small; from the data file's thresholds, which
    # nlu.calibrate moves (0.62 vs 0.38 was narrow at a 0.70 margin, not at 0.20).
    limits = load_policy().thresholds_for("subscribe_events")
    top = limits.min_confidence + 0.01
    narrow = assess(
        _parsed(
            "festival news",
            ("subscribe_events", top),
            ("unsubscribe_events", top - limits.min_margin + 0.01),
        ),
        "subscribe_events",
    )
    assert narrow.decision == CHOOSE


def test_an_unsure_reading_whose_runner_up_is_no_request_is_a_yes_no_question() -> None:
    verdict = assess(_parsed("ok french", ("set_language", 0.6), ("affirm", 0.4)), "set_language")
    assert verdict.decision == CONFIRM


def test_a_button_payload_is_the_citizens_choice() -> None:
    assert is_payload('/set_language{"language": "fr"}') and not is_payload("set language")
    parsed = _parsed("/unsubscribe_events", ("unsubscribe_events", 1.0))
    assert assess(parsed, "unsubscribe_events").decision == ACT


def test_the_thresholds_come_from_the_data_file() -> None:
    policy = load_policy()
    assert policy.thresholds_for("forget_me").min_confidence >= (
        policy.thresholds_for("set_language").min_confidence
    )
    assert policy.is_cancel("  Never mind! ") and not policy.is_cancel("never mind the cost")


def test_a_malformed_guard_file_names_itself(tmp_path: Path) -> None:
    broken = tmp_path / "intent_guard.yml"
    broken.write_text("thresholds:\n  default: {min_confidence: high}\n", encoding="utf-8")
    with pytest.raises(GuardFileError, match=r"intent_guard.yml: thresholds.default"):
        load_policy(broken)
