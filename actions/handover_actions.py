"""Asking for a person: the citizen is queued at the city's help desk and told their place.

The work lives in `helpdesk` (the queue, the office hours, the texts); this action reads the
tracker for the last turns (the staff see them as context) and says where the citizen stands.
`failed_before` lets the fallback replies offer a person after two turns in a row the bot
could not answer; `person_button` is the offer itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType

import helpdesk
from actions import newcomer_guidance
from actions.base import LearncityAction, Turn
from actions.search_flow import first_entity
from core.database import session_scope
from core.replies import JSON_KEY, Button

logger = logging.getLogger(__name__)

# The actions that mean "the bot could not answer this turn".
FAILED_TURN_ACTIONS = frozenset({"action_default_fallback", "action_out_of_scope"})
CONTEXT_TURNS = 8


def person_button(language: str, topic: str | None = None) -> Button:
    """The "Talk to a person" button (with the guidance topic that needs one, if any)."""
    payload = f'/request_human{{"topic": "{topic}"}}' if topic else "/request_human"
    return Button(title=helpdesk.desk_text("button_person", language), payload=payload)


def conversation_so_far(tracker: Tracker, earlier_turns: int | None = None) -> list[dict[str, Any]]:
    """The earlier turns (from the tracker store; the last `earlier_turns` of them when given)
    and this one: actions get only this turn."""
    with session_scope() as session:
        stored = helpdesk.stored_events(session, tracker.sender_id, user_turns=earlier_turns)
    return stored + list(tracker.events)


def failed_before(events: Sequence[dict[str, Any]]) -> bool:
    """Whether the citizen's previous message was also one the bot could not answer."""
    users = [index for index, event in enumerate(events) if event.get("event") == "user"]
    if len(users) < 2:
        return False
    answered_by = [
        event.get("name")
        for event in events[users[-2] + 1 : users[-1]]
        if event.get("event") == "action" and event.get("name") != "action_listen"
    ]
    return any(name in FAILED_TURN_ACTIONS for name in answered_by)


def recent_turns(
    events: Sequence[dict[str, Any]],
    limit: int = CONTEXT_TURNS,
    known_titles: dict[str, str] | None = None,
) -> list[dict[str, str]]:
    """The last turns before this one, as the staff read them: who said what. A pressed
    button is shown by the title the citizen read (in their language), not by its payload:
    the title of the buttons the bot showed, else the one `known_titles` gives."""
    turns: list[dict[str, str]] = []
    titles = dict(known_titles or {})  # payload -> title, updated by each button shown
    for event in events:
        if event.get("event") == "user" and event.get("text"):
            said = str(event["text"])
            turns.append({"who": "citizen", "text": titles.get(said.strip(), said)[:500]})
        elif event.get("event") == "bot":
            data = event.get("data") or {}
            titles.update(_button_titles(data))
            text = event.get("text") or _reply_text(data)
            if text:
                turns.append({"who": "bot", "text": str(text)[:500]})
    return turns[:-1][-limit:] if turns and turns[-1]["who"] == "citizen" else turns[-limit:]


class ActionRequestHuman(LearncityAction):
    def name(self) -> str:
        return "action_request_human"

    async def respond(self, turn: Turn) -> list[EventType]:
        topic = first_entity(turn.entities, "topic")
        events = conversation_so_far(turn.tracker, earlier_turns=CONTEXT_TURNS)
        reason = (
            f"guidance:{topic}" if topic else ("bot_failed" if failed_before(events) else "asked")
        )
        try:
            with session_scope() as session:
                ticket = helpdesk.request_person(
                    session,
                    turn.sender,
                    channel=_channel(turn),
                    language=turn.language,
                    reason=reason,
                    context=recent_turns(events, known_titles=guidance_titles(turn.language)),
                )
        except helpdesk.OpenIndexUnavailableError as error:
            # Nothing was queued (the transaction rolled back): the citizen is told so and
            # offered the same button again, rather than a generic "try again".
            logger.error(
                "a %s citizen asked for a person but was not queued: %s; they were asked to "
                "try again in a few minutes. Start Redis (REDIS_URL) or unset REDIS_URL",
                _channel(turn),
                error,
            )
            turn.reply(
                helpdesk.desk_text("desk_unavailable", turn.language),
                buttons=[person_button(turn.language, topic)],
            )
            return []
        text_id = "queued" if ticket.open_now else "closed"
        turn.reply(
            helpdesk.desk_text(
                text_id,
                turn.language,
                position=ticket.position,
                hours=ticket.hours.describe(turn.language),
            ),
            buttons=[helpdesk.leave_button(turn.language)],
        )
        return []


def guidance_titles(language: str) -> dict[str, str]:
    """{payload: title in `language`} of every guidance step, for a step button pressed
    before the turns the context reads (or pressed without the bot showing it)."""
    return {
        newcomer_guidance.step_payload(step): step.title_in(language)
        for step in newcomer_guidance.load_steps()
    }


def _channel(turn: Turn) -> str:
    metadata = turn.tracker.latest_message.get("metadata") or {}
    channel = metadata.get("channel") if isinstance(metadata, dict) else None
    return str(channel or turn.sender.split(":", 1)[0])


def _reply_text(data: dict[str, Any]) -> str:
    reply = _learncity_reply(data)
    return str(reply.get("text") or "") if reply else ""


def _button_titles(data: dict[str, Any]) -> dict[str, str]:
    """{payload: title} of a bot turn's buttons, whether Rasa's own or in our JSON reply."""
    reply = _learncity_reply(data)
    buttons = [*(data.get("buttons") or []), *(reply.get("buttons") or [])] if data else []
    return {
        str(button["payload"]).strip(): str(button["title"])
        for button in buttons
        if isinstance(button, dict) and button.get("payload") and button.get("title")
    }


def _learncity_reply(data: dict[str, Any]) -> dict[str, Any]:
    custom = data.get("custom") if isinstance(data, dict) else None
    reply = custom.get(JSON_KEY) if isinstance(custom, dict) else None
    return reply if isinstance(reply, dict) else {}
