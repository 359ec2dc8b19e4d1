"""Greeting, help, goodbye, language choice, and the kind redirects for what we cannot do."""

from __future__ import annotations

from rasa_sdk.events import EventType, FollowupAction, SlotSet

import citizens
from actions.base import CHOSEN_LANGUAGE_SLOT, LearncityAction, Turn
from actions.clarify import check_reading, follow_pending
from actions.handover_actions import conversation_so_far, failed_before, person_button
from actions.intent_guard import ranking
from actions.messages import LANGUAGE_NAMES
from actions.search_actions import UNMET_TOPIC_SLOT, ActionSearchCourses
from actions.search_flow import first_entity
from core.database import session_scope
from core.replies import Button
from nlu.language import SUPPORTED_LANGUAGES, normalise_language

MENU = (
    ("button_find_course", "/search_course"),
    ("button_spaces_near_me", "/find_learning_space"),
    ("button_newcomer", "/migrant_guidance"),
    ("button_register_interest", "/register_interest"),
    ("button_language", "/set_language"),
)

# Language names a citizen may type or the NLU may pass through unnormalised.
LANGUAGE_WORDS = {
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
    return normalise_language(value) or LANGUAGE_WORDS.get(value.strip().lower())


def names_a_language(text: str | None) -> bool:
    """Whether the text names a language ("English please", "中文", "in Français")."""
    lowered = (text or "").lower()
    return any(word in lowered for word in LANGUAGE_WORDS)


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
        wanted = language_code(first_entity(turn.entities, "language"))
        checked = check_reading(
            turn,
            "set_language",
            names_target=names_a_language(turn.text),
            question="confirm_set_language" if wanted else "confirm_language_choice",
            question_values={"language": LANGUAGE_NAMES[wanted]} if wanted else {},
        )
        if not checked.act:  # "切换到派对模式" names no language: asked, nothing switched
            return checked.events
        chosen = language_code(first_entity(checked.entities, "language"))
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
            return checked.events
        with session_scope() as session:
            citizens.set_language(session, turn.sender, chosen)
        turn.language = chosen
        turn.reply(
            turn.say("language_set", language=LANGUAGE_NAMES[chosen]), buttons=turn.buttons(MENU)
        )
        return [*checked.events, SlotSet(CHOSEN_LANGUAGE_SLOT, chosen)]


class ActionOutOfScope(LearncityAction):
    def name(self) -> str:
        return "action_out_of_scope"

    async def respond(self, turn: Turn) -> list[EventType]:
        turn.reply(turn.say("out_of_scope"), buttons=_menu_or_person(turn))
        return []


# A fallback torn between these two readings is a learning wish: it is searched (issue 10, 7).
_SEARCH_OR_REGISTER = frozenset({"search_course", "register_interest"})
_LEARNING_WISH_SHARE = 0.8


class ActionDefaultFallback(LearncityAction):
    """Low NLU confidence or no rule: a helpful redirect rather than a guessed action."""

    def name(self) -> str:
        return "action_default_fallback"

    async def respond(self, turn: Turn) -> list[EventType]:
        if _search_or_register(turn):
            # Search first, register second: the search is harmless, and when nothing fits
            # its answer offers to register the wish anyway.
            return await ActionSearchCourses().respond(turn)
        turn.reply(turn.say("fallback"), buttons=_menu_or_person(turn))
        return []


def _search_or_register(turn: Turn) -> bool:
    """True when the NLU hesitated only between searching and registering a course wish.

    Both readings say the citizen wants to learn something; together they must hold most of
    the confidence (`_LEARNING_WISH_SHARE`), so out-of-scope text never gets here.
    """
    readings = [r for r in ranking(turn.tracker.latest_message) if r.intent != "nlu_fallback"][:2]
    return {r.intent for r in readings} == _SEARCH_OR_REGISTER and (
        sum(r.confidence for r in readings) >= _LEARNING_WISH_SHARE
    )


def _menu_or_person(turn: Turn) -> list[Button]:
    """The menu; after two turns in a row the bot could not answer, a person is offered first."""
    menu = turn.buttons(MENU)
    failed_twice = failed_before(conversation_so_far(turn.tracker, earlier_turns=1))
    return [person_button(turn.language), *menu] if failed_twice else menu


class ActionAnswerYesNo(LearncityAction):
    """A "yes"/"no" to a question no rule follows: "Did you mean ...?" (the confirmed action
    runs), "Shall we go on registering?" (the form resumes or is dropped), or the offer to
    register a search that found nothing ("yes" opens the learning-need form with that topic)."""

    def name(self) -> str:
        return "action_answer_yes_no"

    async def respond(self, turn: Turn) -> list[EventType]:
        from actions.need_flow_actions import follow_paused_need  # it imports this module

        events = await follow_pending(turn)
        if events is None:
            events = follow_paused_need(turn)
        if events is not None:
            return events
        unmet = turn.tracker.get_slot(UNMET_TOPIC_SLOT)
        if turn.intent == "affirm" and unmet:
            return [
                SlotSet("need_topic", unmet),
                SlotSet(UNMET_TOPIC_SLOT, None),
                FollowupAction("learning_need_form"),
            ]
        turn.reply(turn.say("anything_else"), buttons=turn.buttons(MENU))
        return [SlotSet(UNMET_TOPIC_SLOT, None)]
