"""The learning-need form's questions, checked answers and consented storage.

register_interest itself (search first, then the form) is in actions/need_flow_actions.py.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import citizens
from actions import learning_need
from actions.base import LearncityAction, Turn, resolve_language
from actions.conversation_actions import language_code
from actions.learning_need import (
    CONSENT_GIVEN,
    CONSENT_SLOT,
    DAY_PARTS,
    DAYS,
    FORM_SLOTS,
    NO_PREFERENCE,
    PAUSED,
    PAUSED_SLOT,
)
from actions.messages import LANGUAGE_NAMES
from core.database import session_scope
from core.replies import Button
from knowledge.city import load_city
from nlu.language import SUPPORTED_LANGUAGES

_NO_PREFERENCE_BUTTON = ("button_no_preference", "/deny")


class ValidateLearningNeedForm(Action):
    """Fills the form's slots from each answer, checked (`learning_need.answers_from_message`).

    A message that answers nothing asked is met with "that doesn't answer my question" and the
    question again, with its choices (the form re-asks a slot set back to None).
    """

    def name(self) -> str:
        return "validate_learning_need_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        message = tracker.latest_message
        answers = learning_need.answers_from_message(
            requested,
            (message.get("intent") or {}).get("name"),
            message.get("text") or "",
            message.get("entities") or [],
            {slot: tracker.get_slot(slot) for slot in (*FORM_SLOTS, CONSENT_SLOT)},
            language_code,
        )
        events: list[EventType] = [SlotSet(slot, value) for slot, value in answers.items()]
        if requested and requested not in answers:
            language, language_events = resolve_language(tracker)
            turn = Turn(tracker=tracker, dispatcher=dispatcher, language=language)
            turn.reply(turn.say("need_not_an_answer"))
            events = [*language_events, *events, SlotSet(requested, None)]
        return events


def shown_need_value(turn: Turn, field: str, value: Any) -> str:
    """One answer of a registration (`district`, `times`, `language`, `age_group`, `topic`) in
    the citizen's words: "南湖", "周末", "中文" rather than the stored "Nanhu weekend zh"."""
    if value in (None, "", NO_PREFERENCE):
        return turn.say("no_preference")
    if field == "district":  # the city file's name for it in the citizen's language
        return load_city().district_name(str(value), turn.language)
    if field == "language":
        return LANGUAGE_NAMES.get(str(value), str(value))
    if field == "times":
        return _shown_times(turn, str(value))
    if field == "age_group":
        return _shown_word(turn, "audience", str(value))
    return str(value)


def describe_need(turn: Turn, slots: dict[str, Any]) -> str:
    """The registration as the citizen will read it before and after consenting."""
    return turn.say(
        "need_summary",
        topic=shown_need_value(turn, "topic", slots.get("need_topic")),
        district=shown_need_value(turn, "district", slots.get("need_district")),
        times=shown_need_value(turn, "times", slots.get("need_times")),
        language=shown_need_value(turn, "language", slots.get("need_language")),
        age_group=shown_need_value(turn, "age_group", slots.get("need_age_group")),
    )


_AUDIENCE_WORDS = {"children", "youth", "seniors"}
_TIME_MESSAGES = {
    "weekday": "time_weekdays",
    "weekend": "time_weekend",
    "morning": "time_morning",
    "daytime": "time_daytime",
    "evening": "time_evening",
}


def _shown_times(turn: Turn, value: str) -> str:
    """ "weekday evening" as one time ("Evenings on weekdays", "工作日晚上"); older free
    text as it was typed."""
    words = value.split()
    if not words or any(word not in _TIME_MESSAGES for word in words):
        return value
    days = [turn.say(_TIME_MESSAGES[w]) for w in words if w in DAYS]
    parts = [turn.say(_TIME_MESSAGES[w]) for w in words if w in DAY_PARTS]
    if days and parts:
        return turn.say("time_on_days", part=", ".join(parts), days=", ".join(days).lower())
    return ", ".join(days + parts)


def _shown_word(turn: Turn, kind: str, value: str) -> str:
    """A normalised audience ("seniors") in the citizen's words; others as stored."""
    return turn.say(f"{kind}_{value}") if value in _AUDIENCE_WORDS else value


class _AskAction(LearncityAction):
    slot = ""
    question = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def choices(self, turn: Turn) -> list[Button]:
        return []

    async def respond(self, turn: Turn) -> list[EventType]:
        turn.reply(turn.say(self.question), buttons=self.choices(turn))
        return []


class ActionAskNeedTopic(_AskAction):
    slot, question = "need_topic", "ask_need_topic"


class ActionAskNeedDistrict(_AskAction):
    slot, question = "need_district", "ask_need_district"

    def choices(self, turn: Turn) -> list[Button]:
        return [
            Button(
                title=district.name_in(turn.language),
                payload=f'/inform{{"district": "{district.key}"}}',
            )
            for district in load_city().districts
        ] + turn.buttons([_NO_PREFERENCE_BUTTON])


class ActionAskNeedTimes(_AskAction):
    slot, question = "need_times", "ask_need_times"

    def choices(self, turn: Turn) -> list[Button]:
        times = ("weekend", "evening", "morning", "daytime")
        return turn.buttons(
            [(f"time_{time}", f'/inform{{"schedule": "{time}"}}') for time in times]
            + [_NO_PREFERENCE_BUTTON]
        )


class ActionAskNeedLanguage(_AskAction):
    slot, question = "need_language", "ask_need_language"

    def choices(self, turn: Turn) -> list[Button]:
        return [
            Button(title=LANGUAGE_NAMES[code], payload=f'/inform{{"language": "{code}"}}')
            for code in SUPPORTED_LANGUAGES
        ] + turn.buttons([_NO_PREFERENCE_BUTTON])


class ActionAskNeedAgeGroup(_AskAction):
    slot, question = "need_age_group", "ask_need_age_group"

    def choices(self, turn: Turn) -> list[Button]:
        groups = ("children", "youth", "seniors")
        return turn.buttons(
            [(f"audience_{group}", f'/inform{{"audience": "{group}"}}') for group in groups]
            + [("button_just_me", "/deny")]
        )


class ActionAskNeedConsent(LearncityAction):
    """The explicit consent question, showing exactly what would be stored."""

    def name(self) -> str:
        return "action_ask_need_consent"

    async def respond(self, turn: Turn) -> list[EventType]:
        slots = {slot: turn.tracker.get_slot(slot) for slot in FORM_SLOTS}
        turn.reply(
            turn.say("ask_need_consent", need=describe_need(turn, slots)),
            buttons=turn.buttons([("button_yes_store", "/affirm"), ("button_no_store", "/deny")]),
        )
        return []


class ActionSubmitLearningNeed(LearncityAction):
    """After the form: store the need only on an explicit yes; always clear the answers."""

    def name(self) -> str:
        return "action_submit_learning_need"

    async def respond(self, turn: Turn) -> list[EventType]:
        slots = {slot: turn.tracker.get_slot(slot) for slot in (*FORM_SLOTS, CONSENT_SLOT)}
        consent = slots[CONSENT_SLOT]
        cleared = [SlotSet(slot, None) for slot in (*FORM_SLOTS, CONSENT_SLOT)]
        if consent == PAUSED:  # another question came in the middle: answer it, offer to go on
            from actions.need_flow_actions import answer_and_offer_resume  # imports this module

            kept = turn.tracker.get_slot(PAUSED_SLOT) or {}
            return [*cleared, *await answer_and_offer_resume(turn, kept)]
        need = learning_need.need_from_slots(slots)
        if consent == CONSENT_GIVEN and need.topic:
            with session_scope() as session:
                citizens.register_learning_need(session, turn.sender, need, consent=True)
            turn.reply(turn.say("need_stored", need=describe_need(turn, slots)))
        elif consent == learning_need.CANCELLED:
            turn.reply(turn.say("need_cancelled"))
        else:
            turn.reply(turn.say("need_not_stored"))
        return cleared
