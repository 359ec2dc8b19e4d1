"""Asking before acting: the "Did you mean ...?" question and the two-best-readings buttons.

State-changing actions call `check_reading` first. When `intent_guard.assess` is unsure, the
citizen gets Yes/No buttons whose Yes payload carries the confirmed intent and its entities, or
the two best readings as buttons; a typed "yes" is understood too, through the `pending_intent`
slot that `action_answer_yes_no` follows by running the confirmed action in-process (a
FollowupAction would leave the policies without a rule for the turn after it). Subscribing and
forgetting have their own consent question, answered by their own rules: when unsure, they ask
"Did you mean ...?" with their consent buttons instead, so one explicit yes is still needed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk.events import EventType, SlotSet

from actions.base import Turn
from actions.intent_guard import ACT, CHOOSE, assess

logger = logging.getLogger(__name__)

PENDING_INTENT_SLOT = "pending_intent"

# The action each state-changing intent runs (rules.yml).
ACTION_FOR_INTENT = {
    "set_language": "action_set_language",
    "subscribe_events": "action_subscribe_events",
    "unsubscribe_events": "action_unsubscribe_events",
    "forget_me": "action_forget_me",
    "register_interest": "action_register_interest",
}
_CHOICE_ASKED = {"intent": "", "entities": []}  # a yes to "which of these?" confirms nothing
# Button titles for a reading offered as a choice (message ids of actions/replies/).
READING_LABELS = {
    "search_course": "button_find_course",
    "find_learning_space": "button_spaces_near_me",
    "migrant_guidance": "button_newcomer",
    "register_interest": "button_register_interest",
    "set_language": "button_language",
    "subscribe_events": "reading_subscribe_events",
    "unsubscribe_events": "reading_unsubscribe_events",
    "forget_me": "reading_forget_me",
    "list_events": "reading_list_events",
    "my_data": "reading_my_data",
    "help": "reading_help",
}


@dataclass
class Checked:
    """What `check_reading` decided: act (with these entities) or the question was asked."""

    act: bool
    entities: list[dict[str, Any]]
    events: list[EventType] = field(default_factory=list)


def intent_payload(intent: str, entities: Sequence[Mapping[str, Any]]) -> str:
    """`/intent{"entity": value}` with the first value of each entity (a button's payload)."""
    values: dict[str, Any] = {}
    for entity in entities:
        name = entity.get("entity")
        if name and name not in values and entity.get("value") not in (None, ""):
            values[str(name)] = entity["value"]
    return f"/{intent}{json.dumps(values, ensure_ascii=False)}" if values else f"/{intent}"


def confirmed_entities(turn: Turn, intent: str) -> list[dict[str, Any]] | None:
    """The entities of `intent` if this turn is a typed "yes" to our "Did you mean" about it."""
    pending = turn.tracker.get_slot(PENDING_INTENT_SLOT)
    if turn.intent == "affirm" and isinstance(pending, dict) and pending.get("intent") == intent:
        return list(pending.get("entities") or [])
    return None


def check_reading(
    turn: Turn, intent: str, *, names_target: bool = False, question: str | None = None,
    question_values: Mapping[str, object] | None = None,
    consent_buttons: Sequence[tuple[str, str]] = (),
) -> Checked:  # fmt: skip
    """Act, or ask: "Did you mean ...?" (Yes/No) or the two best readings as buttons.

    `question` is the message id of the yes/no question (default `confirm_<intent>`);
    `consent_buttons`, when given, answer it instead of Yes/No (the action's own rules follow).
    """
    confirmed = confirmed_entities(turn, intent)
    if confirmed is not None:
        return Checked(True, confirmed, [SlotSet(PENDING_INTENT_SLOT, None)])
    entities = [e for e in turn.entities if e.get("entity")]
    message = turn.tracker.latest_message
    verdict = assess(message, intent, names_target=names_target)
    clear: list[EventType] = (
        [SlotSet(PENDING_INTENT_SLOT, None)] if turn.tracker.get_slot(PENDING_INTENT_SLOT) else []
    )
    if verdict.decision == ACT:
        return Checked(True, entities, clear)
    logger.info("asked before %s: %s", intent, verdict.reason)
    if verdict.decision == CHOOSE:
        buttons = [
            (READING_LABELS[r.intent], intent_payload(r.intent, entities))
            for r in verdict.readings
            if r.intent in READING_LABELS
        ]
        if len(buttons) == 2:
            turn.reply(
                turn.say("choose_reading"),
                buttons=turn.buttons([*buttons, ("button_none_of_these", "/deny")]),
            )
            return Checked(False, entities, [SlotSet(PENDING_INTENT_SLOT, _CHOICE_ASKED)])
    if consent_buttons:
        question_text = turn.say(question or f"confirm_{intent}", **dict(question_values or {}))
        turn.reply(question_text, buttons=turn.buttons(consent_buttons))
        return Checked(False, entities, clear)
    turn.reply(
        turn.say(question or f"confirm_{intent}", **dict(question_values or {})),
        buttons=turn.buttons(
            [("button_yes", intent_payload(intent, entities)), ("button_no", "/deny")]
        ),
    )
    pending = {"intent": intent, "entities": [_plain(e) for e in entities]}
    return Checked(False, entities, [SlotSet(PENDING_INTENT_SLOT, pending)])


async def follow_pending(turn: Turn) -> list[EventType] | None:
    """For a "yes"/"no" after "Did you mean ...?": run the confirmed action, or drop it.

    None when no such question is pending.
    """
    pending = turn.tracker.get_slot(PENDING_INTENT_SLOT)
    if not isinstance(pending, dict):
        return None
    confirmed = _confirmable_actions().get(str(pending.get("intent")))
    if turn.intent == "affirm" and confirmed is not None:
        return await confirmed().respond(turn)  # it reads the entities from `pending_intent`
    turn.reply(turn.say("anything_else"))
    return [SlotSet(PENDING_INTENT_SLOT, None)]


def _confirmable_actions() -> dict[str, Any]:
    """The actions a typed "yes" confirms (imported here: they import this module)."""
    from actions.conversation_actions import ActionSetLanguage
    from actions.need_flow_actions import ActionRegisterInterest
    from actions.subscription_actions import ActionUnsubscribeEvents

    return {
        "set_language": ActionSetLanguage,
        "unsubscribe_events": ActionUnsubscribeEvents,
        "register_interest": ActionRegisterInterest,
    }


def _plain(entity: Mapping[str, Any]) -> dict[str, Any]:
    return {"entity": entity.get("entity"), "value": entity.get("value")}
