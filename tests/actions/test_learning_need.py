"""How answers fill a learning-need registration, and that only an explicit yes is consent."""

from __future__ import annotations

from actions.conversation_actions import language_code
from actions.learning_need import (
    CANCELLED,
    CONSENT_GIVEN,
    CONSENT_REFUSED,
    NO_PREFERENCE,
    PAUSED,
    answers_from_message,
    need_from_slots,
    normalised_times,
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


def test_a_typed_answer_fills_the_question_asked_only_when_it_answers_it() -> None:
    assert _answer("need_topic", "out_of_scope", "beekeeping") == {"need_topic": "beekeeping"}
    assert _answer("need_language", "set_language", "French") == {"need_language": "fr"}
    assert _answer("need_language", "inform", "Français") == {"need_language": "fr"}
    assert _answer("need_district", "inform", "南湖") == {"need_district": "Nanhu"}
    assert _answer("need_district", "inform", "Nanhu District please") == {"need_district": "Nanhu"}
    # Free text that is no time, district, language or age group answers nothing: ask again.
    assert _answer("need_times", "inform", "after work on Tuesdays") == {}
    assert _answer("need_district", "inform", "somewhere nice") == {}
    assert _answer("need_language", "inform", "whatever") == {}
    assert _answer("need_age_group", "inform", "old") == {}


def test_yes_is_no_district_time_language_or_age_group() -> None:
    for slot in ("need_district", "need_times", "need_language", "need_age_group"):
        assert _answer(slot, "affirm", "yes") == {}, slot


def test_no_to_an_optional_question_means_no_preference() -> None:
    assert _answer("need_district", "deny", "/deny") == {"need_district": NO_PREFERENCE}
    assert _answer("need_age_group", "deny", "/deny") == {"need_age_group": NO_PREFERENCE}


def test_weekday_evenings_is_one_time_not_two() -> None:
    entities = [
        {"entity": "schedule", "value": "weekday"},
        {"entity": "schedule", "value": "evening"},
    ]
    assert _answer("need_times", "inform", "weekday evenings", entities) == {
        "need_times": "weekday evening"
    }
    assert normalised_times(["evening", "weekday", "evening"]) == "weekday evening"
    assert normalised_times(["soon"]) is None
    assert _answer("need_times", "inform", "Evenings, weekends") == {
        "need_times": "weekend evening"
    }


def test_entities_fill_a_slot_only_with_values_it_can_hold() -> None:
    entities = [
        {"entity": "district", "value": "Atlantis"},
        {"entity": "audience", "value": "festival news"},
        {"entity": "language", "value": "Klingon"},
    ]
    assert _answer("need_age_group", "inform", "festival news", entities) == {}
    seniors = [{"entity": "audience", "value": "seniors"}]
    assert _answer("need_age_group", "inform", "seniors", seniors) == {"need_age_group": "seniors"}


def test_only_yes_to_the_consent_question_is_consent() -> None:
    assert _answer("need_consent", "affirm", "/affirm") == {"need_consent": CONSENT_GIVEN}
    assert _answer("need_consent", "deny", "no") == {"need_consent": CONSENT_REFUSED}
    assert _answer("need_consent", "inform", "maybe later") == {"need_consent": CONSENT_REFUSED}


def test_never_mind_cancels_in_every_language() -> None:
    filled = {"need_topic": "chess"}
    words = ["never mind", "算了", "annuler", "cancelar", "скасувати", "отмена", "إلغاء", "Cancel!"]
    for word in words:
        answers = _answer("need_district", "unsubscribe_events", word, filled=filled)
        assert answers["need_consent"] == CANCELLED, word
        assert "need_topic" not in answers and answers["need_district"] == NO_PREFERENCE
    assert _answer("need_topic", "deny", "no")["need_consent"] == CANCELLED
    assert _answer("need_times", "goodbye", "bye")["need_consent"] == CANCELLED


def test_another_question_puts_the_form_aside_with_its_answers() -> None:
    filled = {"need_topic": "chess", "need_district": "Nanhu"}
    answers = _answer("need_age_group", "subscribe_events", "send me festival news", filled=filled)
    assert answers["need_consent"] == PAUSED
    assert answers["paused_need"] == filled
    assert answers["need_age_group"] == NO_PREFERENCE and "need_topic" not in answers
    pottery = [{"entity": "topic", "value": "pottery"}]
    search = _answer("need_language", "search_course", "where can I learn pottery", pottery, filled)
    assert search["need_consent"] == PAUSED and "need_language" in search
    assert _answer("need_times", "my_data", "my data", filled=filled)["need_consent"] == PAUSED
    # "French" at the language question is an answer, not a request to switch language.
    assert _answer("need_language", "set_language", "French", filled=filled) == {
        "need_language": "fr"
    }


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


def test_a_time_of_day_on_weekdays_is_shown_as_one_time() -> None:
    from actions.learning_need_actions import shown_need_value

    assert shown_need_value(_turn("en"), "times", "weekday evening") == "Evenings on weekdays"
    assert shown_need_value(_turn("zh"), "times", "weekday evening") == "工作日晚上"
    assert shown_need_value(_turn("en"), "times", "weekend") == "Weekends"
    assert shown_need_value(_turn("en"), "times", "after work") == "after work"
