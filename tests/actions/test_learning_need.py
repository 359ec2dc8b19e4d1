"""How answers fill a learning-need registration, and that only an explicit yes is consent."""

from __future__ import annotations

from actions.conversation_actions import language_code
from actions.learning_need import (
    CANCELLED,
    CONSENT_GIVEN,
    CONSENT_REFUSED,
    NO_PREFERENCE,
    answers_from_message,
    need_from_slots,
)

EMPTY: dict[str, str | None] = {}


def _answer(requested: str | None, intent: str, text: str, entities=(), filled=EMPTY):
    return answers_from_message(requested, intent, text, list(entities), filled, language_code)


def test_the_first_message_prefills_what_it_names() -> None:
    answers = _answer(
        None,
        "register_interest",
        "I wish there was a woodworking class in Beishan",
        [{"entity": "topic", "value": "woodworking"}, {"entity": "district", "value": "Beishan"}],
    )
    assert answers == {"need_topic": "woodworking", "need_district": "Beishan"}


def test_a_typed_answer_fills_the_question_asked() -> None:
    assert _answer("need_topic", "out_of_scope", "beekeeping") == {"need_topic": "beekeeping"}
    assert _answer("need_times", "inform", "after work on Tuesdays") == {
        "need_times": "after work on Tuesdays"
    }
    assert _answer("need_language", "set_language", "French") == {"need_language": "fr"}
    assert _answer("need_language", "inform", "Français") == {"need_language": "fr"}


def test_no_to_an_optional_question_means_no_preference() -> None:
    assert _answer("need_district", "deny", "/deny") == {"need_district": NO_PREFERENCE}
    assert _answer("need_age_group", "affirm", "yes") == {"need_age_group": NO_PREFERENCE}


def test_only_yes_to_the_consent_question_is_consent() -> None:
    assert _answer("need_consent", "affirm", "/affirm") == {"need_consent": CONSENT_GIVEN}
    assert _answer("need_consent", "deny", "no") == {"need_consent": CONSENT_REFUSED}
    assert _answer("need_consent", "inform", "maybe later") == {"need_consent": CONSENT_REFUSED}


def test_leaving_the_form_cancels_it() -> None:
    filled = {"need_topic": "chess"}
    answers = _answer("need_district", "forget_me", "forget me", filled=filled)
    assert answers["need_consent"] == CANCELLED
    assert "need_topic" not in answers and answers["need_district"] == NO_PREFERENCE
    assert _answer("need_topic", "deny", "no")["need_consent"] == CANCELLED
    assert _answer("need_times", "set_language", "French")["need_consent"] == CANCELLED


def test_no_preference_is_stored_as_nothing() -> None:
    need = need_from_slots(
        {
            "need_topic": "sign language",
            "need_district": "Nanhu",
            "need_times": NO_PREFERENCE,
            "need_language": "zh",
            "need_age_group": NO_PREFERENCE,
        }
    )
    assert (need.topic, need.district, need.preferred_times, need.language, need.age_group) == (
        "sign language",
        "Nanhu",
        None,
        "zh",
        None,
    )


def _turn(language: str):  # type: ignore[no-untyped-def]
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.base import Turn

    tracker = Tracker("web:t", {}, {"text": "我的数据"}, [], False, None, {}, "action_listen")
    return Turn(tracker=tracker, dispatcher=CollectingDispatcher(), language=language)


def test_my_data_shows_a_stored_need_in_the_citizens_words() -> None:
    from actions.privacy_actions import describe_data

    stored = {
        "learning_needs": [
            {
                "topic": "古筝",
                "district": "Nanhu",
                "preferred_times": "weekend",
                "language": "zh",
                "age_group": "seniors",
            }
        ],
        "conversation_events": 3,
    }
    chinese = describe_data(_turn("zh"), stored)
    assert "古筝（南湖, 周末, 中文, 老人）" in chinese
    english = describe_data(_turn("en"), stored)
    assert "古筝 (Nanhu, Weekends, 中文, Seniors)" in english
