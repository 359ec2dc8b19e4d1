"""my_data shows everything stored about the citizen; forget_me erases it after a yes."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType

import citizens
from actions.base import LearncityAction, Turn
from actions.clarify import PENDING_INTENT_SLOT, check_reading, follow_pending
from actions.learning_need_actions import shown_need_value
from actions.messages import LANGUAGE_NAMES
from core.database import session_scope

YES_NO = (("button_yes_delete", "/affirm"), ("button_no_keep", "/deny"))


# The stored record's keys, and how the registration form names the same answers.
_NEED_FIELDS = (
    ("district", "district"),
    ("preferred_times", "times"),
    ("language", "language"),
    ("age_group", "age_group"),
)


_UNMET_SHOWN = 10  # different unmet searches listed; "forget me" erases every one


def describe_data(turn: Turn, data: dict[str, Any]) -> str:
    """Everything `citizens.export_citizen_data` returned, one readable line per fact."""
    lines = [turn.say("my_data_intro")]
    if data.get("language"):
        lines.append(
            turn.say(
                "my_data_language", language=LANGUAGE_NAMES.get(data["language"], data["language"])
            )
        )
    for need in data.get("learning_needs") or []:
        details = ", ".join(
            shown_need_value(turn, field, need[key]) for key, field in _NEED_FIELDS if need.get(key)
        )
        lines.append(turn.say("my_data_need", topic=need["topic"], details=details or "-"))
    for subscription in data.get("subscriptions") or []:
        scope = " / ".join(
            str(subscription[key]) for key in ("topic", "district") if subscription.get(key)
        )
        lines.append(turn.say("my_data_subscription", scope=scope or turn.say("scope_all")))
    if not data.get("reachable", True):
        lines.append(turn.say("my_data_unreachable"))
    lines.append(turn.say("my_data_conversation", count=data.get("conversation_events", 0)))
    if data.get("broadcast_deliveries"):
        lines.append(turn.say("my_data_broadcasts", count=len(data["broadcast_deliveries"])))
    if data.get("web_outbox"):
        lines.append(turn.say("my_data_web_outbox", count=len(data["web_outbox"])))
    if data.get("unmet_searches"):
        asked = list(dict.fromkeys(search["query"] for search in data["unmet_searches"]))
        shown = "; ".join(asked[:_UNMET_SHOWN]) + ("; …" if len(asked) > _UNMET_SHOWN else "")
        lines.append(turn.say("my_data_unmet", queries=shown))
    if len(lines) == 2 and not data.get("conversation_events"):
        lines = [turn.say("my_data_nothing")]
    lines.append(turn.say("my_data_footer"))
    return "\n".join(lines)


class ActionShowMyData(LearncityAction):
    def name(self) -> str:
        return "action_show_my_data"

    async def respond(self, turn: Turn) -> list[EventType]:
        with session_scope() as session:
            data = citizens.export_citizen_data(session, turn.sender)
        turn.reply(describe_data(turn, data))
        return []


class ActionForgetMe(LearncityAction):
    """Asks for confirmation; `action_confirm_forget_me` erases on "yes"."""

    def name(self) -> str:
        return "action_forget_me"

    async def respond(self, turn: Turn) -> list[EventType]:
        # "Supprime la minuterie": "Did you mean to erase everything?" with the same yes/no
        checked = check_reading(turn, "forget_me", consent_buttons=YES_NO)
        if checked.act:
            turn.reply(turn.say("ask_forget_confirm"), buttons=turn.buttons(YES_NO))
        return checked.events


class ActionConfirmForgetMe(LearncityAction):
    def name(self) -> str:
        return "action_confirm_forget_me"

    async def respond(self, turn: Turn) -> list[EventType]:
        if turn.tracker.get_slot(PENDING_INTENT_SLOT):  # a yes to "which of these?": no erasing
            return await follow_pending(turn) or []
        if turn.intent != "affirm":
            turn.reply(turn.say("forget_cancelled"))
            return []
        # Everything registered in citizens.registry except Rasa's events, which the gateway
        # erases once this turn is stored (and checks that nothing is left). A database error
        # here rolls the erasure back and fails into the kind "try again": never "done".
        with session_scope() as session:
            erased = citizens.erase_citizen(session, turn.sender, include_conversation=False)
        total = sum(erased.values())
        turn.reply(turn.say("forget_done", count=total), erase_conversation=True)
        return []
