"""The learning-need form checks its answers: a non-answer is asked again with the choices,
"never mind" in any of the seven languages cancels, another question is answered and the form
offered again, and nothing wrong is ever stored (issue 10 item 5). Real Rasa server.
"""

from __future__ import annotations

import pytest

from tests.conftest import RunningAssistant
from tests.conversations.support import (
    buttons,
    cards,
    catalog_text,
    exported,
    new_sender,
    payload_with,
    texts,
)
from tests.conversations.test_guarded_conversations import active_loop

pytestmark = pytest.mark.slow
OPEN_FORM = '/register_interest{"topic": "chess"}'  # the "register" button


async def _answer_until_consent(assistant: RunningAssistant, sender: str, replies: list) -> list:
    """Answer the remaining questions with their first button, up to the consent question."""
    for _ in range(6):
        payloads = [button.payload for button in buttons(replies)]
        if "/affirm" in payloads:
            return replies
        replies = await assistant.talk(sender, payload=payloads[0])
    raise AssertionError(f"the form never asked for consent: {texts(replies)}")


async def test_yes_is_not_taken_as_the_district(assistant: RunningAssistant) -> None:
    sender = new_sender()
    asked = await assistant.talk(sender, OPEN_FORM)
    assert catalog_text("ask_need_district", "en") in texts(asked)
    again = await assistant.talk(sender, "yes")
    assert texts(again).startswith(catalog_text("need_not_an_answer", "en"))
    assert catalog_text("ask_need_district", "en") in texts(again)
    assert payload_with(again, '"district"')  # the choices, again
    times = await assistant.talk(sender, "in Nanhu")
    assert catalog_text("ask_need_times", "en") in texts(times)
    await _answer_until_consent(assistant, sender, times)
    await assistant.talk(sender, payload="/affirm")
    needs = exported(assistant.database_url, sender)["learning_needs"]
    assert [(need["topic"], need["district"]) for need in needs] == [("chess", "Nanhu")]


async def test_weekday_evenings_is_stored_as_one_time(assistant: RunningAssistant) -> None:
    sender = new_sender()
    await assistant.talk(sender, OPEN_FORM)
    await assistant.talk(sender, payload="/deny")  # no preference for the district
    language = await assistant.talk(sender, "weekday evenings")
    assert catalog_text("ask_need_language", "en") in texts(language)
    consent = await _answer_until_consent(assistant, sender, language)
    assert "Evenings on weekdays" in texts(consent)
    await assistant.talk(sender, payload="/affirm")
    needs = exported(assistant.database_url, sender)["learning_needs"]
    assert [need["preferred_times"] for need in needs] == ["weekday evening"]


async def test_festival_news_at_the_age_step_is_not_stored_as_the_audience(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    replies = await assistant.talk(sender, OPEN_FORM)
    while catalog_text("ask_need_age_group", "en") not in texts(replies):
        replies = await assistant.talk(sender, payload=buttons(replies)[0].payload)
    news = await assistant.talk(sender, "send me festival news")
    assert catalog_text("need_cancelled", "en") in texts(news)
    assert payload_with(news, "/affirm")  # the subscription's own consent question
    assert await active_loop(assistant, sender) is None
    data = exported(assistant.database_url, sender)
    assert data["learning_needs"] == [] and data["subscriptions"] == []


@pytest.mark.parametrize(
    ("language", "never_mind"),
    [
        ("en", "never mind"),
        ("zh", "算了"),
        ("fr", "annuler"),
        ("es", "cancelar"),
        ("uk", "скасувати"),
        ("ru", "отмена"),
        ("ar", "إلغاء"),
    ],
)
async def test_never_mind_cancels_and_stores_nothing(
    assistant: RunningAssistant, language: str, never_mind: str
) -> None:
    sender = new_sender()
    await assistant.talk(sender, payload=f'/set_language{{"language": "{language}"}}')
    await assistant.talk(sender, OPEN_FORM)
    assert await active_loop(assistant, sender) == "learning_need_form"
    stopped = await assistant.talk(sender, never_mind)
    assert texts(stopped) == catalog_text("need_cancelled", language)
    assert await active_loop(assistant, sender) is None
    data = exported(assistant.database_url, sender)
    assert data["learning_needs"] == [] and data["subscriptions"] == []


async def test_a_search_in_the_middle_is_answered_then_the_form_resumes(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    await assistant.talk(sender, OPEN_FORM)
    answered = await assistant.talk(sender, "where can I learn pottery")
    assert any("pottery" in card.name.lower() for card in cards(answered)), texts(answered)
    assert catalog_text("need_paused", "en", topic="chess") in texts(answered)
    assert await active_loop(assistant, sender) is None
    resumed = await assistant.talk(sender, payload="/affirm")
    assert await active_loop(assistant, sender) == "learning_need_form"
    assert catalog_text("ask_need_district", "en") in texts(resumed)
    consent = await _answer_until_consent(assistant, sender, resumed)
    assert "chess" in texts(consent)
    assert exported(assistant.database_url, sender)["learning_needs"] == []


async def test_my_data_in_the_middle_is_answered_then_the_form_can_be_dropped(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    await assistant.talk(sender, OPEN_FORM)
    await assistant.talk(sender, "in Nanhu")
    shown = await assistant.talk(sender, "my data")
    assert catalog_text("need_paused", "en", topic="chess") in texts(shown)
    assert catalog_text("my_data_footer", "en") in texts(shown)
    dropped = await assistant.talk(sender, "no")
    assert texts(dropped) == catalog_text("need_dropped", "en")
    assert await active_loop(assistant, sender) is None
    assert exported(assistant.database_url, sender)["learning_needs"] == []
