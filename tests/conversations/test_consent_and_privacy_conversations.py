"""Registering a learning need and subscribing (only with consent), choosing a language,
seeing one's data and being forgotten — checked in the database behind the assistant."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import RunningAssistant
from tests.conversations.support import (
    catalog_text,
    exported,
    languages,
    new_sender,
    payload_with,
    rows_about,
    texts,
)

pytestmark = pytest.mark.slow


async def _register(assistant: RunningAssistant, sender: str, opening: str) -> list:
    """Answer every question of the learning-need form with its first offered button."""
    replies = await assistant.talk(sender, opening)
    for _ in range(6):
        payloads = [button.payload for reply in replies for button in reply.buttons]
        if "/affirm" in payloads:
            return replies
        replies = await assistant.talk(sender, payload=payloads[0] if payloads else None)
    raise AssertionError(f"the form never asked for consent: {texts(replies)}")


async def test_english_learning_need_is_stored_after_yes(assistant: RunningAssistant) -> None:
    sender = new_sender()
    consent = await _register(assistant, sender, "I wish there was a woodworking class in Beishan")
    assert "woodworking" in texts(consent)
    assert exported(assistant.database_url, sender)["learning_needs"] == []
    stored = await assistant.talk(sender, payload="/affirm")
    assert "woodworking" in texts(stored)
    needs = exported(assistant.database_url, sender)["learning_needs"]
    assert len(needs) == 1
    assert needs[0]["topic"] == "woodworking" and needs[0]["district"] == "Beishan"


async def test_chinese_refusal_stores_nothing(assistant: RunningAssistant) -> None:
    sender = new_sender()
    await _register(assistant, sender, "我希望有手语课")
    refused = await assistant.talk(sender, "不要")
    assert texts(refused) == catalog_text("need_not_stored", "zh")
    data = exported(assistant.database_url, sender)
    assert data["learning_needs"] == [] and data["subscriptions"] == []


async def test_spanish_registration_asks_in_spanish_and_stores_on_yes(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    consent = await _register(assistant, sender, "quiero registrar mi interés en carpintería")
    assert languages(consent) == {"es"}
    await assistant.talk(sender, "sí")
    assert len(exported(assistant.database_url, sender)["learning_needs"]) == 1


async def test_subscribe_after_yes_and_unsubscribe(assistant: RunningAssistant) -> None:
    sender = new_sender()
    asked = await assistant.talk(sender, "subscribe to events in Nanhu")
    assert (
        payload_with(asked, "/affirm")
        and exported(assistant.database_url, sender)["subscriptions"] == []
    )
    await assistant.talk(sender, payload="/affirm")
    assert exported(assistant.database_url, sender)["subscriptions"] == [
        {"topic": None, "district": "Nanhu"}
    ]
    stopped = await assistant.talk(sender, "unsubscribe")
    assert texts(stopped) == catalog_text("unsubscribed", "en", count=1)
    assert exported(assistant.database_url, sender)["subscriptions"] == []


async def test_refused_subscription_stores_nothing(assistant: RunningAssistant) -> None:
    sender = new_sender()
    await assistant.talk(sender, "订阅活动消息")
    refused = await assistant.talk(sender, payload="/deny")
    assert languages(refused) == {"zh"}
    assert exported(assistant.database_url, sender)["subscriptions"] == []


async def test_chosen_language_survives_a_restarted_conversation(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    offered = await assistant.talk(sender, "change language")
    chosen = await assistant.talk(sender, payload=payload_with(offered, '"uk"'))
    assert languages(chosen) == {"uk"}
    assert exported(assistant.database_url, sender)["language"] == "uk"
    async with httpx.AsyncClient(timeout=30) as client:
        restart = await client.post(
            f"{assistant.rasa_url}/conversations/{sender}/tracker/events",
            json={"event": "restart"},
            params={"token": assistant.supervisor.rasa_token},  # type: ignore[attr-defined]
        )
        assert restart.status_code == 200
    after = await assistant.talk(sender, "hello")
    assert languages(after) == {"uk"}
    assert texts(after) == catalog_text("greet", "uk")


async def test_my_data_shows_what_was_stored(assistant: RunningAssistant) -> None:
    sender = new_sender()
    await assistant.talk(sender, payload='/set_language{"language": "fr"}')
    await assistant.talk(sender, payload='/subscribe_events{"district": "Xicheng"}')
    await assistant.talk(sender, payload="/affirm")
    shown = texts(await assistant.talk(sender, payload="/my_data"))  # as /mydata sends it
    assert "Français" in shown and "Xicheng" in shown
    # The count is read before this turn is stored, so it is a little below today's.
    counted = [int(n) for n in re.findall(r"\d+", shown.splitlines()[-2])]
    stored_now = exported(assistant.database_url, sender)["conversation_events"]
    assert counted and 0 < counted[0] <= stored_now


async def test_forget_me_leaves_no_row_in_any_table(assistant: RunningAssistant) -> None:
    sender = new_sender()
    await assistant.talk(sender, payload='/set_language{"language": "en"}')
    await assistant.talk(sender, payload='/subscribe_events{"topic": "robotics"}')
    await assistant.talk(sender, payload="/affirm")
    await _register(assistant, sender, "please register my interest in pottery")
    await assistant.talk(sender, payload="/affirm")
    before = rows_about(assistant.database_url, sender)
    assert before.get("events.sender_id", 0) > 0 and sum(before.values()) > 3
    kept = await assistant.talk(sender, "forget me")
    await assistant.talk(sender, payload="/deny")
    assert len(exported(assistant.database_url, sender)["learning_needs"]) == 1
    assert payload_with(kept, "/affirm")
    await assistant.talk(sender, "forget me")
    done = await assistant.talk(sender, payload="/affirm")
    assert any(reply.erase_conversation for reply in done) or texts(done)
    after = rows_about(assistant.database_url, sender)
    assert sum(after.values()) == 0, after
