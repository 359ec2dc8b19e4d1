"""Festival and event news: subscribe only after a yes; unsubscribe at once when clearly asked.

Both check the reading first (actions/clarify.py): "включи ночную лампу" or "stop all the timers"
read as these intents get "Did you mean ...?", never a subscription change.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet

import citizens
from actions.base import LearncityAction, Turn
from actions.clarify import (
    PENDING_INTENT_SLOT,
    check_reading,
    confirmed_entities,
    follow_pending,
)
from actions.intent_guard import ACT, assess
from actions.search_flow import first_entity
from core.database import session_scope

TOPIC_SLOT, DISTRICT_SLOT = "subscription_topic", "subscription_district"
YES_NO = (("button_yes_subscribe", "/affirm"), ("button_no_thanks", "/deny"))

# Words for the announcements themselves: "festival news" asks for all of them, not for
# events about a topic called "festival".
_ANNOUNCEMENT_TEXT = """
    festival festivals event events news announcement announcements activities activity updates
    学习节 学习节活动 节日 活动 学习活动 消息 通知 新闻 资讯
    fiesta fiestas festivales evento eventos noticias actividades
    fête fêtes événement événements actualités nouvelles activités
    фестиваль фестиваля фестивалю мероприятия мероприятий события новости
    заходи заходів події новини
    مهرجان المهرجان فعاليات الفعاليات أخبار الأخبار الأحداث
"""
_ANNOUNCEMENT_WORDS = frozenset(_ANNOUNCEMENT_TEXT.split()) | {
    "learning festival", "festival news", "event news", "learning events",
}  # fmt: skip


def subscription_topic(entities: list[dict[str, Any]]) -> str | None:
    """The topic a subscription is narrowed to; None for words that mean the news itself."""
    topic = first_entity(entities, "topic")
    if topic is None or " ".join(topic.lower().split()) in _ANNOUNCEMENT_WORDS:
        return None
    return topic


def _scope(turn: Turn, topic: str | None, district: str | None) -> str:
    if topic and district:
        return turn.say("scope_topic_district", topic=topic, district=district)
    if topic:
        return turn.say("scope_topic", topic=topic)
    if district:
        return turn.say("scope_district", district=district)
    return turn.say("scope_all")


class ActionSubscribeEvents(LearncityAction):
    """Asks consent first; `action_confirm_subscription` stores it on "yes"."""

    def name(self) -> str:
        return "action_subscribe_events"

    async def respond(self, turn: Turn) -> list[EventType]:
        # When unsure ("включи ночную лампу"), "Did you mean to get the news?" is the consent
        # question: the same yes/no, answered by the same rules.
        checked = check_reading(turn, "subscribe_events", consent_buttons=YES_NO)
        topic = subscription_topic(checked.entities)
        district = first_entity(checked.entities, "district")
        if checked.act:
            turn.reply(
                turn.say("ask_subscribe_consent", scope=_scope(turn, topic, district)),
                buttons=turn.buttons(YES_NO),
            )
        return [*checked.events, SlotSet(TOPIC_SLOT, topic), SlotSet(DISTRICT_SLOT, district)]


class ActionConfirmSubscription(LearncityAction):
    def name(self) -> str:
        return "action_confirm_subscription"

    async def respond(self, turn: Turn) -> list[EventType]:
        if turn.tracker.get_slot(PENDING_INTENT_SLOT):  # a yes to "which of these?": no consent
            return await follow_pending(turn) or []
        topic, district = turn.tracker.get_slot(TOPIC_SLOT), turn.tracker.get_slot(DISTRICT_SLOT)
        cleared: list[EventType] = [SlotSet(TOPIC_SLOT, None), SlotSet(DISTRICT_SLOT, None)]
        if turn.intent != "affirm":
            turn.reply(turn.say("subscribe_refused"))
            return cleared
        with session_scope() as session:
            added = citizens.subscribe_events(
                session, turn.sender, topic=topic, district=district, consent=True
            )
        message = "subscribed" if added else "already_subscribed"
        turn.reply(turn.say(message, scope=_scope(turn, topic, district)))
        return cleared


class ActionUnsubscribeEvents(LearncityAction):
    """Unsubscribe needs a subscription to exist and a message about the news (or a yes)."""

    def name(self) -> str:
        return "action_unsubscribe_events"

    async def respond(self, turn: Turn) -> list[EventType]:
        with session_scope() as session:
            subscribed = bool(citizens.export_citizen_data(session, turn.sender)["subscriptions"])
        if not subscribed:
            # Nothing can change; only a message about the news deserves "you had none".
            about_news = assess(turn.tracker.latest_message, "unsubscribe_events")
            clear = about_news.decision == ACT or (
                confirmed_entities(turn, "unsubscribe_events") is not None
            )
            turn.reply(turn.say("not_subscribed" if clear else "fallback", count=0))
            return [SlotSet(PENDING_INTENT_SLOT, None)]
        checked = check_reading(turn, "unsubscribe_events")
        if not checked.act:
            return checked.events
        with session_scope() as session:
            removed = citizens.unsubscribe_events(
                session, turn.sender, topic=subscription_topic(checked.entities)
            )
        turn.reply(turn.say("unsubscribed" if removed else "not_subscribed", count=removed))
        return checked.events
