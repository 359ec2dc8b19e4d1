"""What a learning-need registration holds and how the citizen's answers fill it.

`learning_need_form` asks topic, district, preferred times, language and age group, then an
explicit consent question; only a "yes" to that stores anything (see `citizens`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from citizens import LearningNeed

FORM_SLOTS = ("need_topic", "need_district", "need_times", "need_language", "need_age_group")
CONSENT_SLOT = "need_consent"
NO_PREFERENCE = "any"  # a filled slot that stores nothing
CONSENT_GIVEN, CONSENT_REFUSED, CANCELLED = "yes", "no", "cancelled"

# Questions that take the citizen elsewhere: the registration stops and stores nothing.
LEAVING_INTENTS = frozenset({"forget_me", "my_data", "goodbye", "help", "set_language"})
_ENTITY_FOR_SLOT = {
    "need_topic": "topic",
    "need_district": "district",
    "need_times": "schedule",
    "need_language": "language",
    "need_age_group": "audience",
}


def answers_from_message(
    requested_slot: str | None,
    intent: str | None,
    text: str,
    entities: Sequence[Mapping[str, Any]],
    filled: Mapping[str, Any],
    language_code: Any = None,
) -> dict[str, Any]:
    """The form slots this message fills, given which question it answers.

    Entities fill any open slot; the text itself answers the question asked; "no" to an
    optional question means "no preference"; leaving the form or refusing at the first
    question cancels it; only "yes" to the consent question is consent.
    """
    # "French" answering "in which language?" may well be parsed as set_language.
    answering_language = intent == "set_language" and requested_slot == "need_language"
    leaving = intent in LEAVING_INTENTS and not answering_language
    if leaving or (intent == "deny" and requested_slot == "need_topic"):
        return cancelled(filled)
    answers: dict[str, Any] = {}
    for slot, entity_name in _ENTITY_FOR_SLOT.items():
        values = [
            str(e["value"]).strip()
            for e in entities
            if e.get("entity") == entity_name and str(e.get("value") or "").strip()
        ]
        if values and (filled.get(slot) is None or slot == requested_slot):
            # several times make one answer ("saturday morning"); a topic is the first named
            answers[slot] = values[0] if slot == "need_topic" else " ".join(dict.fromkeys(values))
    if requested_slot == CONSENT_SLOT:
        return {CONSENT_SLOT: CONSENT_GIVEN if intent == "affirm" else CONSENT_REFUSED}
    if requested_slot in FORM_SLOTS and requested_slot not in answers:
        typed = text.strip() if text and not text.startswith("/") else ""
        if requested_slot == "need_language" and language_code is not None:
            code = language_code(typed)
            if code:
                answers[requested_slot] = code
                return answers
        if intent in ("deny", "affirm") and requested_slot != "need_topic":
            # "no" or a bare "yes" to "which district?" names none: no preference
            answers[requested_slot] = NO_PREFERENCE
        elif typed:
            answers[requested_slot] = typed[:120]
    return answers


def cancelled(filled: Mapping[str, Any]) -> dict[str, Any]:
    """Fill every open slot so the form ends, marked as cancelled."""
    answers: dict[str, Any] = {
        slot: NO_PREFERENCE for slot in FORM_SLOTS if filled.get(slot) is None
    }
    if filled.get("need_topic") is None:
        answers["need_topic"] = NO_PREFERENCE
    answers[CONSENT_SLOT] = CANCELLED
    return answers


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
