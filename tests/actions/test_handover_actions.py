"""When the bot offers a person, and what the staff see of the conversation before it: read
from tracker events shaped as Rasa stores them."""

from __future__ import annotations

from actions import newcomer_guidance
from actions.handover_actions import (
    failed_before,
    guidance_titles,
    person_button,
    recent_turns,
)


def _user(text: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "x"}}}


def _action(name: str) -> dict:
    return {"event": "action", "name": name}


def _bot(text: str) -> dict:
    return {"event": "bot", "text": None, "data": {"custom": {"learncity": {"text": text}}}}


def test_a_person_is_offered_only_when_the_previous_turn_failed_too() -> None:
    failed_once = [_user("weather?"), _action("action_out_of_scope"), _bot("I can't"),
                   _action("action_listen"), _user("music?")]  # fmt: skip
    answered_then_failed = [_user("pottery"), _action("action_search_courses"),
                            _action("action_listen"), _user("music?")]  # fmt: skip
    assert failed_before(failed_once) is True
    assert failed_before(answered_then_failed) is False
    assert failed_before([_user("music?")]) is False


def test_the_staff_see_the_last_turns_before_the_request_without_it() -> None:
    events = [_user("my diploma is from Kyiv"), _action("action_default_fallback"),
              _bot("Sorry, I didn't understand"), _action("action_listen"),
              _user("talk to a person")]  # fmt: skip
    assert recent_turns(events) == [
        {"who": "citizen", "text": "my diploma is from Kyiv"},
        {"who": "bot", "text": "Sorry, I didn't understand"},
    ]
    many = [_user(f"message {n}") for n in range(20)]
    assert [turn["text"] for turn in recent_turns(many, limit=3)] == [
        "message 16",
        "message 17",
        "message 18",
    ]


def test_the_offer_carries_the_guidance_topic_that_needs_a_person() -> None:
    assert person_button("uk").payload == "/request_human"
    assert person_button("uk").title == "Поговорити з людиною"
    assert (
        person_button("ar", "qualifications").payload == '/request_human{"topic": "qualifications"}'
    )


def test_a_pressed_button_is_shown_to_the_staff_by_the_title_the_citizen_read() -> None:
    guidance = '/migrant_guidance{"topic": "qualifications"}'
    offer = {
        "event": "bot",
        "text": None,
        "data": {
            "buttons": None,
            "custom": {
                "learncity": {
                    "text": "Bienvenue ! Par quoi commencer ?",
                    "buttons": [{"title": "Faire reconnaître un diplôme", "payload": guidance}],
                }
            },
        },
    }
    rasa_buttons = {"event": "bot", "text": "Menu",
                    "data": {"buttons": [{"title": "Nouveaux arrivants", "payload": "/migrant_guidance"}]}}  # fmt: skip
    events = [_user("/migrant_guidance"), offer, _user(guidance), rasa_buttons,
              _user("/migrant_guidance"), _user("/unknown_payload"), _user("talk to a person")]  # fmt: skip
    assert [turn["text"] for turn in recent_turns(events)] == [
        "/migrant_guidance",  # pressed before any button with that payload was shown
        "Bienvenue ! Par quoi commencer ?",
        "Faire reconnaître un diplôme",
        "Menu",
        "Nouveaux arrivants",
        "/unknown_payload",
    ]


def test_a_guidance_step_pressed_before_the_stored_turns_still_shows_by_its_title() -> None:
    step = next(s for s in newcomer_guidance.load_steps() if s.id == "qualifications")
    payload = newcomer_guidance.step_payload(step)
    events = [_user(payload), _bot("…"), _user("talk to a person")]
    shown = recent_turns(events, known_titles=guidance_titles("ar"))
    assert shown[0] == {"who": "citizen", "text": step.title_in("ar")}
    assert step.title_in("ar") != step.title_in("en") and not payload.startswith(shown[0]["text"])
