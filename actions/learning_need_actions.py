"""register_interest: the learning-need form's questions, answers and consented storage."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

import citizens
from actions import learning_need
from actions.base import LearncityAction, Turn
from actions.conversation_actions import language_code
from actions.learning_need import CONSENT_GIVEN, CONSENT_SLOT, FORM_SLOTS, NO_PREFERENCE
from actions.messages import LANGUAGE_NAMES
from core.database import session_scope
from core.replies import Button
from knowledge.city import load_city
from nlu.language import SUPPORTED_LANGUAGES

_NO_PREFERENCE_BUTTON = ("button_no_preference", "/deny")


def _answers(tracker: Tracker) -> dict[str, Any]:
    message = tracker.latest_message
    return learning_need.answers_from_message(
        tracker.get_slot("requested_slot"),
        (message.get("intent") or {}).get("name"),
        message.get("text") or "",
        message.get("entities") or [],
        {slot: tracker.get_slot(slot) for slot in (*FORM_SLOTS, CONSENT_SLOT)},
        language_code,
    )


class ValidateLearningNeedForm(FormValidationAction):
    """Fills the form's slots from each answer (see `learning_need.answers_from_message`)."""

    def name(self) -> str:
        return "validate_learning_need_form"

    def _one(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        value = _answers(tracker).get(slot)
        return {slot: value} if value is not None else {}

    async def extract_need_topic(self, d: CollectingDispatcher, t: Tracker, _: dict) -> dict:
        return self._one(t, "need_topic")

    async def extract_need_district(self, d: CollectingDispatcher, t: Tracker, _: dict) -> dict:
        return self._one(t, "need_district")

    async def extract_need_times(self, d: CollectingDispatcher, t: Tracker, _: dict) -> dict:
        return self._one(t, "need_times")

    async def extract_need_language(self, d: CollectingDispatcher, t: Tracker, _: dict) -> dict:
        return self._one(t, "need_language")

    async def extract_need_age_group(self, d: CollectingDispatcher, t: Tracker, _: dict) -> dict:
        return self._one(t, "need_age_group")

    async def extract_need_consent(self, d: CollectingDispatcher, t: Tracker, _: dict) -> dict:
        return self._one(t, CONSENT_SLOT)

    # The answers were shaped when extracted; these keep them tidy (and rasa-sdk quiet).
    def _tidy(self, slot: str, value: Any) -> dict[str, Any]:
        return {slot: " ".join(str(value).split())[:120] if value is not None else None}

    def validate_need_topic(self, value: Any, d: CollectingDispatcher, t: Tracker, _: dict) -> dict:
        return self._tidy("need_topic", value)

    def validate_need_district(
        self, value: Any, d: CollectingDispatcher, t: Tracker, _: dict
    ) -> dict:
        return self._tidy("need_district", value)

    def validate_need_times(self, value: Any, d: CollectingDispatcher, t: Tracker, _: dict) -> dict:
        return self._tidy("need_times", value)

    def validate_need_language(
        self, value: Any, d: CollectingDispatcher, t: Tracker, _: dict
    ) -> dict:
        return self._tidy("need_language", value)

    def validate_need_age_group(
        self, value: Any, d: CollectingDispatcher, t: Tracker, _: dict
    ) -> dict:
        return self._tidy("need_age_group", value)

    def validate_need_consent(
        self, value: Any, d: CollectingDispatcher, t: Tracker, _: dict
    ) -> dict:
        return {CONSENT_SLOT: value}


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
        return ", ".join(_shown_word(turn, "time", word) for word in str(value).split())
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


_TIME_WORDS = {"weekend", "evening", "morning", "daytime"}
_AUDIENCE_WORDS = {"children", "youth", "seniors"}


def _shown_word(turn: Turn, kind: str, value: str) -> str:
    """A normalised answer ("weekend", "seniors") in the citizen's words; others as typed."""
    known = _TIME_WORDS if kind == "time" else _AUDIENCE_WORDS
    value = "daytime" if value == "weekday" and kind == "time" else value
    return turn.say(f"{kind}_{value}") if value in known else value


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
        need = learning_need.need_from_slots(slots)
        if consent == CONSENT_GIVEN and need.topic:
            with session_scope() as session:
                citizens.register_learning_need(session, turn.sender, need, consent=True)
            turn.reply(turn.say("need_stored", need=describe_need(turn, slots)))
        elif consent == learning_need.CANCELLED:
            turn.reply(turn.say("need_cancelled"))
        else:
            turn.reply(turn.say("need_not_stored"))
        return [SlotSet(slot, None) for slot in (*FORM_SLOTS, CONSENT_SLOT)]
