"""What a learning-need registration holds and how the citizen's answers fill it.

`learning_need_form` asks topic, district, preferred times, language and age group, then an
explicit consent question; only a "yes" to that stores anything (see `citizens`). Every answer
is checked against what its slot can hold (the city's districts, the times, the languages and
audiences of the entity inventory); anything else is asked again, so nothing wrong is stored:
"yes" is not a district, "send me festival news" is not an age group (issue 10 item 5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from actions.intent_guard import load_policy
from citizens import LearningNeed
from knowledge.city import load_city

FORM_SLOTS = ("need_topic", "need_district", "need_times", "need_language", "need_age_group")
CONSENT_SLOT = "need_consent"
PAUSED_SLOT = "paused_need"  # the answers kept while another question is answered
NO_PREFERENCE = "any"  # a filled slot that stores nothing
CONSENT_GIVEN, CONSENT_REFUSED, CANCELLED = "yes", "no", "cancelled"
PAUSED = "paused"  # the form stopped for another question; resume or drop is offered

# Questions that are not answers: the form is put aside, the question answered, and the form
# offered again (actions/learning_need_actions.py). goodbye and "never mind" cancel instead.
QUESTION_INTENTS = frozenset(
    {
        "search_course",
        "find_learning_space",
        "list_events",
        "show_more",
        "migrant_guidance",
        "my_data",
        "help",
        "subscribe_events",
        "unsubscribe_events",
        "forget_me",
        "set_language",
    }
)
CANCELLING_INTENTS = frozenset({"goodbye"})
# What the slots can hold: the entity inventory's normalised values (docs/dev/TEAM_BRIEF.md).
DAYS = ("weekday", "weekend")
DAY_PARTS = ("morning", "daytime", "evening")
AUDIENCES = frozenset(
    {"seniors", "children", "parents", "migrants", "unemployed", "women", "youth", "disabled"}
)
_ENTITY_FOR_SLOT = {
    "need_topic": "topic",
    "need_district": "district",
    "need_times": "schedule",
    "need_language": "language",
    "need_age_group": "audience",
}
# A topic is typed freely; these intents never carry one.
_NOT_A_TOPIC = QUESTION_INTENTS - {"search_course"} | {"affirm", "greet"}

LanguageCode = Callable[[str | None], str | None]


def answers_from_message(
    requested_slot: str | None,
    intent: str | None,
    text: str,
    entities: Sequence[Mapping[str, Any]],
    filled: Mapping[str, Any],
    language_code: LanguageCode | None = None,
) -> dict[str, Any]:
    """The form slots this message fills, given which question it answers.

    Checked entities fill any open slot; the text answers the question asked only when it is
    a valid answer to it; "no" to an optional question means "no preference"; "never mind"
    (any language), goodbye, or "no" at the first question cancel; another question pauses
    the form (`PAUSED`); only "yes" to the consent question is consent. When the requested
    slot is missing from the result, the message did not answer it: ask again.
    """
    typed = text.strip() if text and not text.startswith("/") else ""
    if (
        (typed and load_policy().is_cancel(typed))
        or intent in CANCELLING_INTENTS
        or (intent == "deny" and requested_slot == "need_topic")
    ):
        return cancelled(filled)
    answers: dict[str, Any] = {}
    for slot in FORM_SLOTS:
        if filled.get(slot) is None or slot == requested_slot:
            value = _entity_answer(slot, entities, language_code)
            if value:
                answers[slot] = value
    if requested_slot == CONSENT_SLOT:
        if intent in QUESTION_INTENTS:
            return paused(filled)
        return {CONSENT_SLOT: CONSENT_GIVEN if intent == "affirm" else CONSENT_REFUSED}
    if requested_slot in FORM_SLOTS and requested_slot not in answers:
        value = _typed_answer(requested_slot, intent, typed, language_code)
        answering_language = requested_slot == "need_language" and intent == "set_language"
        if value:
            answers[requested_slot] = value
        elif intent in QUESTION_INTENTS and not answering_language:
            return paused(filled)
    return answers


def cancelled(filled: Mapping[str, Any]) -> dict[str, Any]:
    """Fill every open slot so the form ends, marked as cancelled."""
    return {**_closed(filled), CONSENT_SLOT: CANCELLED}


def paused(filled: Mapping[str, Any]) -> dict[str, Any]:
    """End the form for another question, keeping the answers given so far to resume."""
    kept = {slot: filled[slot] for slot in FORM_SLOTS if filled.get(slot) is not None}
    return {**_closed(filled), CONSENT_SLOT: PAUSED, PAUSED_SLOT: kept}


def normalised_times(values: Sequence[str]) -> str | None:
    """ "weekday evening" for weekday + evening: days first, then parts of the day, once each;
    None when no value is a time the form knows."""
    words = {str(value).lower() for value in values}
    words |= {word.removesuffix("s") for word in words}  # a typed "evenings", "weekends"
    known = [v for v in DAYS + DAY_PARTS if v in words]
    return " ".join(known) or None


def need_from_slots(slots: Mapping[str, Any]) -> LearningNeed:
    """The record to store; "no preference" answers are stored as nothing."""

    def value(slot: str) -> str | None:
        raw = slots.get(slot)
        return None if raw in (None, "", NO_PREFERENCE) else str(raw)

    return LearningNeed(
        topic=value("need_topic") or "",
        district=value("need_district"),
        preferred_times=value("need_times"),
        language=value("need_language"),
        age_group=value("need_age_group"),
    )


def _closed(filled: Mapping[str, Any]) -> dict[str, Any]:
    return {slot: NO_PREFERENCE for slot in FORM_SLOTS if filled.get(slot) is None}


def _entity_answer(
    slot: str, entities: Sequence[Mapping[str, Any]], language_code: LanguageCode | None
) -> str | None:
    """The slot's value from the message's entities, only if it is one the slot can hold."""
    values = [
        str(e["value"]).strip()
        for e in entities
        if e.get("entity") == _ENTITY_FOR_SLOT[slot] and str(e.get("value") or "").strip()
    ]
    if not values:
        return None
    if slot == "need_topic":
        return values[0][:120]
    if slot == "need_district":
        return next((key for key in map(_district_key, values) if key), None)
    if slot == "need_times":
        return normalised_times(values)
    if slot == "need_language":
        return next((c for c in (_language(v, language_code) for v in values) if c), None)
    return next((v.lower() for v in values if v.lower() in AUDIENCES), None)


def _typed_answer(
    slot: str, intent: str | None, typed: str, language_code: LanguageCode | None
) -> str | None:
    """The answer in the text itself (no entity), or None when it answers nothing."""
    if intent == "deny" and slot != "need_topic":
        return NO_PREFERENCE  # "no" or the "no preference" / "just me" button
    if not typed:
        return None
    if slot == "need_topic":
        return typed[:120] if intent not in _NOT_A_TOPIC else None
    if intent == "affirm":
        return None  # "yes" names no district, time, language or age group
    if slot == "need_district":
        return _district_key(typed)
    if slot == "need_times":
        return normalised_times(typed.lower().replace(",", " ").split())
    if slot == "need_language":
        return _language(typed, language_code)
    return typed.lower() if typed.lower() in AUDIENCES else None


def _district_key(value: str) -> str | None:
    return load_city().district_key(value) or None


def _language(value: str, language_code: LanguageCode | None) -> str | None:
    return language_code(value) if language_code is not None else None
