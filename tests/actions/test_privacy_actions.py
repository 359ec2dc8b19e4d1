"""'My data' read from a real database lists every registered kind of data, in the citizen's
language: announcements sent to them, messages waiting for their web chat page and their
searches that found nothing too."""

from __future__ import annotations

import knowledge
from actions.messages import say
from actions.privacy_actions import describe_data
from bot.broadcasts import Announcement, broadcast
from bot.channels import web
from citizens import export_citizen_data, subscribe_events
from core.database import session_scope, upgrade_database
from core.settings import Settings


def _turn(language: str):  # type: ignore[no-untyped-def]
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.base import Turn

    tracker = Tracker("web:t", {}, {"text": "我的数据"}, [], False, None, {}, "action_listen")
    return Turn(tracker=tracker, dispatcher=CollectingDispatcher(), language=language)


async def test_my_data_counts_announcements_sent_and_messages_waiting(database_url: str) -> None:
    upgrade_database(database_url)
    sender = "web:privacy-page"
    with session_scope(database_url) as session:
        subscribe_events(session, sender, district="Nanhu", consent=True)
        for query in ("养蜂课", "潜水", "养蜂课"):
            knowledge.record_unmet_demand(session, query, "zh", {}, None, sender)
    senders = {"web": web.sender(Settings(database_url=database_url))}
    for event_id in ("evt-a", "evt-b"):
        announcement = Announcement(texts={"zh": "南湖读书会"}, event_id=event_id)
        with session_scope(database_url) as session:
            await broadcast(announcement, senders, session)

    with session_scope(database_url) as session:
        shown = describe_data(_turn("zh"), export_citizen_data(session, sender))

    assert say("my_data_broadcasts", "zh", count=2) in shown.splitlines()
    assert say("my_data_web_outbox", "zh", count=2) in shown.splitlines()
    assert say("my_data_subscription", "zh", scope="Nanhu") in shown.splitlines()
    assert say("my_data_unmet", "zh", queries="养蜂课; 潜水") in shown.splitlines()
