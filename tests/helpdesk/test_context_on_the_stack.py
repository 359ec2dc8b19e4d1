"""What the staff see of the conversation before a hand-over, on the trained model, the Rasa
server and the action server: a pressed guidance button reads as the citizen read it."""

from __future__ import annotations

import pytest

import helpdesk
from actions import newcomer_guidance
from core.database import session_scope
from tests.conftest import RunningAssistant
from tests.conversations.support import buttons, new_sender
from tests.helpdesk.support import ALWAYS_OPEN

pytestmark = pytest.mark.slow


@pytest.fixture
def open_desk(assistant: RunningAssistant) -> RunningAssistant:
    with session_scope(assistant.database_url) as session:
        helpdesk.set_office_hours(session, ALWAYS_OPEN, "context-test")
    return assistant


async def _context_after_asking(
    assistant: RunningAssistant, sender: str, replies: list, language: str
) -> list[dict[str, str]]:
    """Press the "talk to a person" offer among `replies`; the context the staff get."""
    offer = next(b for b in buttons(replies) if b.payload.startswith("/request_human"))
    await assistant.talk(sender, payload=offer.payload, language_hint=language)
    with session_scope(assistant.database_url) as session:
        chat = helpdesk.open_chat_for(session, sender)
    assert chat is not None
    return chat.context


async def test_a_pressed_guidance_button_shows_in_the_context_by_its_title(
    open_desk: RunningAssistant,
) -> None:
    sender = new_sender()
    menu = await open_desk.talk(sender, "bonjour", language_hint="fr")
    newcomers = next(b for b in buttons(menu) if b.payload == "/migrant_guidance")
    welcome = await open_desk.talk(sender, payload=newcomers.payload, language_hint="fr")
    step = next(b for b in buttons(welcome) if "qualifications" in b.payload)
    guidance = await open_desk.talk(sender, payload=step.payload, language_hint="fr")
    context = await _context_after_asking(open_desk, sender, guidance, "fr")
    said = [turn["text"] for turn in context if turn["who"] == "citizen"]
    assert said == ["bonjour", newcomers.title, step.title], context


async def test_a_guidance_step_pressed_before_the_context_shows_by_its_title_too(
    open_desk: RunningAssistant,
) -> None:
    """The step's button was shown before the turns the context reads (here: not at all)."""
    sender = new_sender()
    payload = '/migrant_guidance{"topic": "qualifications"}'
    guidance = await open_desk.talk(sender, payload=payload, language_hint="uk")
    context = await _context_after_asking(open_desk, sender, guidance, "uk")
    step = next(s for s in newcomer_guidance.load_steps() if s.id == "qualifications")
    assert context[0] == {"who": "citizen", "text": step.title_in("uk")}, context
