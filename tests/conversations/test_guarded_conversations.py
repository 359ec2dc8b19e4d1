"""Never acting on a guess: out-of-scope text that the NLU reads confidently as a
state-changing intent is asked about, and nothing changes; genuine requests still work in one
or two turns. Then "search first, register second". Through the real Rasa server (issue 10).
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import RunningAssistant
from tests.conversations.support import (
    buttons,
    cards,
    catalog_text,
    exported,
    new_sender,
    texts,
)

pytestmark = pytest.mark.slow


async def active_loop(assistant: RunningAssistant, sender: str) -> str | None:
    """The form the Rasa server holds open for this conversation, if any."""
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(
            f"{assistant.rasa_url}/conversations/{sender}/tracker",
            params={"token": assistant.supervisor.rasa_token},  # type: ignore[attr-defined]
        )
    response.raise_for_status()
    return (response.json().get("active_loop") or {}).get("name")


def asked_or_turned_down(replies: list, question: str, language: str | None) -> bool:
    """The reply asks `question`, or turns the message down (a better NLU may read it as out of
    scope): either way nothing was acted on."""
    language = language or "en"
    allowed = {catalog_text(m, language) for m in (question, "out_of_scope", "fallback")}
    return texts(replies) in allowed


async def _subscribed(assistant: RunningAssistant, sender: str) -> None:
    await assistant.talk(sender, payload='/subscribe_events{"district": "Nanhu"}')
    await assistant.talk(sender, payload="/affirm")
    assert len(exported(assistant.database_url, sender)["subscriptions"]) == 1


async def test_party_mode_asks_and_does_not_switch_language(assistant: RunningAssistant) -> None:
    sender = new_sender()
    asked = await assistant.talk(sender, "切换到派对模式")
    assert asked_or_turned_down(asked, "confirm_language_choice", "zh"), texts(asked)
    assert exported(assistant.database_url, sender)["language"] is None
    await assistant.talk(sender, "不是")
    assert exported(assistant.database_url, sender)["language"] is None
    switched = await assistant.talk(sender, "switch to French")  # a genuine request: one turn
    assert exported(assistant.database_url, sender)["language"] == "fr"
    assert {reply.language for reply in switched} == {"fr"}


async def test_timers_and_the_kitchen_light_do_not_unsubscribe(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    await _subscribed(assistant, sender)
    timers = await assistant.talk(sender, "stop all the timers")
    assert asked_or_turned_down(timers, "confirm_unsubscribe_events", "en"), texts(timers)
    assert len(exported(assistant.database_url, sender)["subscriptions"]) == 1
    await assistant.talk(sender, payload="/deny")
    assert len(exported(assistant.database_url, sender)["subscriptions"]) == 1
    light = await assistant.talk(sender, "把厨房的灯关掉")
    assert asked_or_turned_down(light, "confirm_unsubscribe_events", "zh"), texts(light)
    assert len(exported(assistant.database_url, sender)["subscriptions"]) == 1
    if texts(light) == catalog_text("confirm_unsubscribe_events", "zh"):
        confirmed = await assistant.talk(sender, "是的")  # a typed yes to the question: done
        assert texts(confirmed) == catalog_text("unsubscribed", "zh", count=1)
        assert exported(assistant.database_url, sender)["subscriptions"] == []


async def test_stopping_the_festival_news_works_in_one_turn(assistant: RunningAssistant) -> None:
    sender = new_sender()
    await _subscribed(assistant, sender)
    stopped = await assistant.talk(sender, "stop the festival news")
    assert texts(stopped) == catalog_text("unsubscribed", "en", count=1)
    assert exported(assistant.database_url, sender)["subscriptions"] == []


async def test_supprime_la_minuterie_erases_nothing(assistant: RunningAssistant) -> None:
    sender = new_sender()
    await _subscribed(assistant, sender)
    asked = await assistant.talk(sender, "Supprime la minuterie")
    language = asked[0].language  # language detection is not this test's subject
    assert asked_or_turned_down(asked, "confirm_forget_me", language), texts(asked)
    assert len(exported(assistant.database_url, sender)["subscriptions"]) == 1
    await assistant.talk(sender, payload="/deny")
    assert len(exported(assistant.database_url, sender)["subscriptions"]) == 1


async def test_a_night_lamp_is_not_a_subscription(assistant: RunningAssistant) -> None:
    sender = new_sender()
    asked = await assistant.talk(sender, "включи ночную лампу")
    language = asked[0].language
    assert asked_or_turned_down(asked, "confirm_subscribe_events", language), texts(asked)
    await assistant.talk(sender, payload="/deny")
    assert exported(assistant.database_url, sender)["subscriptions"] == []


async def test_a_pto_request_does_not_open_the_needs_form(assistant: RunningAssistant) -> None:
    sender = new_sender()
    asked = await assistant.talk(sender, "can i put in a pto request for august 1st")
    assert await active_loop(assistant, sender) is None
    assert catalog_text("ask_need_topic", "en") not in texts(asked)
    assert catalog_text("ask_need_district", "en") not in texts(asked)
    assert exported(assistant.database_url, sender)["learning_needs"] == []


async def test_sign_language_class_shows_the_courses_first(assistant: RunningAssistant) -> None:
    sender = new_sender()
    found = await assistant.talk(sender, "sign language class")
    names = [card.name.lower() for card in cards(found)]
    assert any("sign" in name or "手语" in name for name in names), names
    assert await active_loop(assistant, sender) is None  # courses found: no form
    # The citizen asks to register all the same (a search that found something offers no form).
    asked = await assistant.talk(sender, "please register my interest in sign language classes")
    assert await active_loop(assistant, sender) == "learning_need_form", texts(asked)
    assert catalog_text("ask_need_district", "en") in texts(asked)


async def test_a_beekeeping_course_is_searched_then_registering_is_offered(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    nothing = await assistant.talk(sender, "I want a beekeeping course")
    assert not cards(nothing)
    assert texts(nothing) == catalog_text("no_results", "en", query="beekeeping")
    assert await active_loop(assistant, sender) is None
    asked = await assistant.talk(sender, "yes")
    assert await active_loop(assistant, sender) == "learning_need_form"
    assert catalog_text("ask_need_district", "en") in texts(asked)
    assert [b.payload for b in buttons(asked)][-1] == "/deny"  # "no preference"
