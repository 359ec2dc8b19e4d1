"""Greeting, help, goodbye, language choice, and the kind redirects for what we cannot do."""

from __future__ import annotations

from rasa_sdk.events import EventType, FollowupAction, SlotSet

import citizens
from actions.base import CHOSEN_LANGUAGE_SLOT, LearncityAction, Turn
from actions.messages import LANGUAGE_NAMES
from actions.search_actions import UNMET_TOPIC_SLOT
from actions.search_flow import first_entity
from core.database import session_scope
from nlu.language import SUPPORTED_LANGUAGES, normalise_language

MENU = (
    ("button_find_course", "/search_course"),
    ("button_spaces_near_me", "/find_learning_space"),
    ("button_newcomer", "/migrant_guidance"),
    ("button_register_interest", "/register_interest"),
    ("button_language", "/set_language"),
)

# Language names a citizen may type or the NLU may pass through unnormalised.
_LANGUAGE_WORDS = {
    "chinese": "zh",
    "mandarin": "zh",
    "english": "en",
    "spanish": "es",
    "french": "fr",
    "arabic": "ar",
    "russian": "ru",
    "ukrainian": "uk",
} | {name.lower(): code for code, name in LANGUAGE_NAMES.items()}


def language_code(value: str | None) -> str | None:
    """A supported language code from an entity value ("fr", "French", "Français")."""
    if not value:
        return None
    return normalise_language(value) or _LANGUAGE_WORDS.get(value.strip().lower())


class ActionGreet(LearncityAction):
    def name(self) -> str:
        return "action_greet"

    async def respond(self, turn: Turn) -> list[EventType]:
        turn.reply(turn.say("greet"), buttons=turn.buttons(MENU))
        return []


class ActionHelp(LearncityAction):
    def name(self) -> str:
        return "action_help"

    async def respond(self, turn: Turn) -> list[EventType]:
        turn.reply(turn.say("help"), buttons=turn.buttons(MENU))
        return []


class ActionSayGoodbye(LearncityAction):
    def name(self) -> str:
        return "action_say_goodbye"

    async def respond(self, turn: Turn) -> list[EventType]:
        turn.reply(turn.say("goodbye"))
        return []


class ActionSetLanguage(LearncityAction):
    """Offer the languages as buttons, or remember the one chosen (it outlives the session)."""

    def name(self) -> str:
        return "action_set_language"

    async def respond(self, turn: Turn) -> list[EventType]:
        chosen = language_code(first_entity(turn.entities, "language"))
        if chosen is None:
            turn.reply(
                turn.say("ask_language"),
                buttons=[
                    {
                        "title": LANGUAGE_NAMES[code],
                        "payload": f'/set_language{{"language": "{code}"}}',
                    }
                    for code in SUPPORTED_LANGUAGES
                ],
            )
            return []
        with session_scope() as session:
            citizens.set_language(session, turn.sender, chosen)
        turn.language = chosen
        turn.reply(
            turn.say("language_set", language=LANGUAGE_NAMES[chosen]), buttons=turn.buttons(MENU)
        )
        return [SlotSet(CHOSEN_LANGUAGE_SLOT, chosen)]


class ActionOutOfScope(LearncityAction):
    def name(self) -> str:
        return "action_out_of_scope"

    async def respond(self, turn: Turn) -> list[EventType]:
        turn.reply(turn.say("out_of_scope"), buttons=turn.buttons(MENU))
        return []


class ActionDefaultFallback(LearncityAction):
    """Low NLU confidence or no rule: a helpful redirect rather than a guessed action."""

    def name(self) -> str:
        return "action_default_fallback"

    async def respond(self, turn: Turn) -> list[EventType]:
        turn.reply(turn.say("fallback"), buttons=turn.buttons(MENU))
        return []


class ActionAnswerYesNo(LearncityAction):
    """A "yes"/"no" that answers no question of ours, except the offer to register a search
    that found nothing: "yes" then opens the learning-need form with that topic."""

    def name(self) -> str:
        return "action_answer_yes_no"

    async def respond(self, turn: Turn) -> list[EventType]:
        unmet = turn.tracker.get_slot(UNMET_TOPIC_SLOT)
        if turn.intent == "affirm" and unmet:
            return [
                SlotSet("need_topic", unmet),
                SlotSet(UNMET_TOPIC_SLOT, None),
                FollowupAction("learning_need_form"),
            ]
        turn.reply(turn.say("anything_else"), buttons=turn.buttons(MENU))
        return [SlotSet(UNMET_TOPIC_SLOT, None)]
