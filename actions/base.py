"""What every learncity action shares: the reply language, one way to reply, kind failures."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import citizens
from actions.messages import say
from actions.reply_language import (
    choose_reply_language,
    decided_this_turn,
    language_to_remember,
)
from core.database import session_scope
from core.replies import JSON_KEY, Button, Card, Reply, buttons_of, cards_of

logger = logging.getLogger(__name__)

DETECTED_LANGUAGE_SLOT = "detected_language"
CHOSEN_LANGUAGE_SLOT = "reply_language"
_LANGUAGE_SLOTS = (DETECTED_LANGUAGE_SLOT, CHOSEN_LANGUAGE_SLOT)
# Short answers ("ok", "no", "more", "Nanhu") say little about the language they are in.
ANSWER_INTENTS = frozenset({"affirm", "deny", "show_more", "inform", "share_location"})


@dataclass
class Turn:
    """One run of an action: who, what they wrote, which language to answer in."""

    tracker: Tracker
    dispatcher: CollectingDispatcher
    language: str
    events: list[EventType] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return self.tracker.sender_id

    @property
    def text(self) -> str:
        return self.tracker.latest_message.get("text") or ""

    @property
    def intent(self) -> str | None:
        return (self.tracker.latest_message.get("intent") or {}).get("name")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.tracker.latest_message.get("entities") or [])

    def say(self, message_id: str, /, **values: object) -> str:
        return say(message_id, self.language, **values)

    def buttons(self, choices: Sequence[tuple[str, str]]) -> list[Button]:
        """Buttons from (message id of the title, payload) pairs."""
        return [Button(title=self.say(title), payload=payload) for title, payload in choices]

    def reply(
        self,
        text: str,
        *,
        buttons: Sequence[Button | Mapping[str, Any]] = (),
        cards: Sequence[Card | Mapping[str, Any]] = (),
        request_location: bool = False,
        erase_conversation: bool = False,
    ) -> None:
        """Send one `Reply` (the shared format in core/replies.py) in this turn's language."""
        reply = Reply(
            text=text,
            buttons=buttons_of(buttons),
            cards=cards_of(cards),
            request_location=request_location,
            language=self.language,
            erase_conversation=erase_conversation,
        )
        self.dispatcher.utter_message(json_message={JSON_KEY: reply.to_json()})


def metadata_hint(tracker: Tracker) -> str | None:
    metadata = tracker.latest_message.get("metadata") or {}
    hint = metadata.get("language_hint") if isinstance(metadata, dict) else None
    return hint if isinstance(hint, str) else None


def remembered_language(sender_id: str) -> str | None:
    """The language the citizen chose in an earlier conversation (stored by set_language)."""
    with session_scope() as session:
        return citizens.get_language(session, sender_id)


def resolve_language(tracker: Tracker) -> tuple[str, list[EventType]]:
    """The reply language for this turn, and the slot event remembering what they wrote in."""
    text = tracker.latest_message.get("text") or ""
    hint = metadata_hint(tracker)
    chosen = tracker.get_slot(CHOSEN_LANGUAGE_SLOT)
    if not chosen:
        try:
            chosen = remembered_language(tracker.sender_id)
        except Exception:  # the database being away must not silence the assistant
            logger.exception("could not read the chosen language of a citizen")
    previous = tracker.get_slot(DETECTED_LANGUAGE_SLOT)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    language = choose_reply_language(
        chosen=chosen,
        text=text,
        previous=previous,
        hint=hint,
        is_answer=intent in ANSWER_INTENTS,
        earlier_language=None if decided_this_turn(tracker.events, _LANGUAGE_SLOTS) else previous,
    )
    events: list[EventType] = []
    if chosen and language != chosen:
        # two clear messages in another language: that language is now the conversation's
        events.append(SlotSet(CHOSEN_LANGUAGE_SLOT, language))
    remembered = language_to_remember(
        chosen=chosen, language=language, text=text, hint=hint, choosing=intent == "set_language"
    )
    if remembered != previous:
        events.append(SlotSet(DETECTED_LANGUAGE_SLOT, remembered))
    return language, events


class LearncityAction(Action, ABC):
    """An action that answers in the citizen's language and never shows them a traceback."""

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def respond(self, turn: Turn) -> list[EventType]:
        """Read the turn, call a service, reply; return the events to apply."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language, events = resolve_language(tracker)
        turn = Turn(tracker=tracker, dispatcher=dispatcher, language=language, events=events)
        try:
            return events + await self.respond(turn)
        except Exception:
            logger.exception("action %s failed for a %s message", self.name(), _channel(tracker))
            dispatcher.messages.clear()
            turn.reply(turn.say("try_again"))
            return events


def _channel(tracker: Tracker) -> str:
    return tracker.sender_id.split(":", 1)[0] if ":" in tracker.sender_id else "unknown"
