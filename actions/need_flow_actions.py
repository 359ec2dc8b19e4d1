"""register_interest searches first; the needs form opens on an explicit request, and is put
aside (then resumed or dropped) when the citizen asks something else in the middle.

"sign language class" and "I want a beekeeping course" first show what the catalog has (issue
10 item 7); the form is offered when nothing fits, or opened at once when the citizen clearly
asks to register ("register my interest in pottery", a button). A search, "my data" or "help"
asked during the form is answered, then "Shall we go on registering?" (Yes/No).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, FollowupAction, SlotSet

from actions import learning_need, search_flow
from actions.base import LearncityAction, Turn
from actions.clarify import (
    ACTION_FOR_INTENT,
    PENDING_INTENT_SLOT,
    check_reading,
    confirmed_entities,
    intent_payload,
)
from actions.conversation_actions import language_code
from actions.intent_guard import ACT, CHOOSE, assess
from actions.learning_need import FORM_SLOTS, PAUSED_SLOT
from actions.search_actions import LAST_SEARCH_SLOT, UNMET_TOPIC_SLOT, show_page

FORM = "learning_need_form"


def open_form(entities: list[dict[str, Any]], *, resume: dict[str, Any] | None = None) -> list:
    """Events that start the form, prefilled from these entities (or the answers put aside)."""
    prefilled = dict(resume or {})
    if not prefilled:
        prefilled = learning_need.answers_from_message(None, None, "", entities, {}, language_code)
    return [
        SlotSet(PENDING_INTENT_SLOT, None),
        SlotSet(PAUSED_SLOT, None),
        *(SlotSet(slot, value) for slot, value in prefilled.items() if slot in FORM_SLOTS),
        FollowupAction(FORM),
    ]


class ActionRegisterInterest(LearncityAction):
    """register_interest: the form on an explicit, confident request; otherwise search first."""

    def name(self) -> str:
        return "action_register_interest"

    async def respond(self, turn: Turn) -> list[EventType]:
        confirmed = confirmed_entities(turn, "register_interest")
        if confirmed is not None:
            return open_form(confirmed)
        verdict = assess(turn.tracker.latest_message, "register_interest")
        if verdict.decision == ACT:  # a button, or "please register my interest in pottery"
            return open_form(turn.entities)
        topic_named = search_flow.first_entity(turn.entities, "topic")
        state = search_flow.plan_search(
            "course", text=turn.text, entities=turn.entities, previous=None
        )
        if verdict.decision == CHOOSE or not topic_named or state is None:
            # "can i put in a pto request for august 1st": no topic, no request to register
            return check_reading(turn, "register_interest").events  # asks; opens nothing
        page = search_flow.run_search(state, turn.language)
        topic = state.topic or topic_named
        register = [("button_yes_register", intent_payload("register_interest", turn.entities))]
        if page.unmet:  # nothing fits: offer to register (a "yes" opens the form)
            search_flow.record_unmet(state, turn.language, turn.sender)
            turn.reply(turn.say("no_results", query=topic), buttons=turn.buttons(register))
            return [
                SlotSet(LAST_SEARCH_SLOT, state.as_slot()),
                SlotSet(UNMET_TOPIC_SLOT, topic),
            ]
        events = show_page(turn, page)
        turn.reply(turn.say("register_offer", topic=topic), buttons=turn.buttons(register))
        return events


async def answer_and_offer_resume(turn: Turn, kept: dict[str, Any]) -> list[EventType]:
    """The form was put aside for this turn's question: answer it, then offer to go on.

    Questions that change something (news, forget me, language) drop the form instead: their
    own yes/no must not be mistaken for "go on"."""
    intent = turn.intent or ""
    if intent in ACTION_FOR_INTENT or intent not in _ANSWERING_ACTIONS:
        turn.reply(turn.say("need_cancelled"))
        follow = ACTION_FOR_INTENT.get(intent)
        return [SlotSet(PAUSED_SLOT, None), *([FollowupAction(follow)] if follow else [])]
    events = await _ANSWERING_ACTIONS[intent]().respond(turn)
    topic = kept.get("need_topic")
    if not topic or topic == learning_need.NO_PREFERENCE:
        return [*events, SlotSet(PAUSED_SLOT, None)]
    turn.reply(
        turn.say("need_paused", topic=topic),
        buttons=turn.buttons([("button_resume", "/affirm"), ("button_drop", "/deny")]),
    )
    return [*events, SlotSet(PAUSED_SLOT, kept), SlotSet(UNMET_TOPIC_SLOT, None)]


def follow_paused_need(turn: Turn) -> list[EventType] | None:
    """A "yes"/"no" to "Shall we go on registering?"; None when no form is put aside."""
    kept = turn.tracker.get_slot(PAUSED_SLOT)
    if not isinstance(kept, dict) or not kept:
        return None
    if turn.intent == "affirm":
        return open_form([], resume=kept)
    turn.reply(turn.say("need_dropped"))
    return [SlotSet(PAUSED_SLOT, None)]


def _answering_actions() -> dict[str, type[LearncityAction]]:
    from actions.conversation_actions import ActionHelp
    from actions.guidance_actions import ActionMigrantGuidance
    from actions.privacy_actions import ActionShowMyData
    from actions.search_actions import (
        ActionFindLearningSpaces,
        ActionListEvents,
        ActionSearchCourses,
        ActionShowMore,
    )

    return {
        "search_course": ActionSearchCourses,
        "find_learning_space": ActionFindLearningSpaces,
        "list_events": ActionListEvents,
        "show_more": ActionShowMore,
        "migrant_guidance": ActionMigrantGuidance,
        "my_data": ActionShowMyData,
        "help": ActionHelp,
    }


_ANSWERING_ACTIONS = _answering_actions()
