"""Which language the assistant answers in, through the real Rasa server and action server.

Issue 10: "Acabo de llegar a la ciudad y no hablo chino" was answered in French, "moins
cher ?" in English, Ukrainian often in Russian; a chosen language must stick until the
citizen changes it or clearly writes another language for two turns.
"""

from __future__ import annotations

import pytest

from tests.conftest import RunningAssistant
from tests.conversations.support import languages, new_sender, texts

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("Acabo de llegar a la ciudad y no hablo chino", "es"),
        ("Je viens d'arriver en ville, où puis-je apprendre le chinois ?", "fr"),
        ("Де можна безкоштовно вивчати китайську мову?", "uk"),
        ("Где можно бесплатно изучать китайский язык?", "ru"),
    ],
)
async def test_a_first_message_is_answered_in_its_language(
    assistant: RunningAssistant, message: str, language: str
) -> None:
    replies = await assistant.talk(new_sender(), message)
    assert languages(replies) == {language}, texts(replies)


async def test_a_chosen_language_sticks_until_two_clear_messages_in_another(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    await assistant.talk(sender, payload='/set_language{"language": "zh"}')
    one = await assistant.talk(sender, "where can I learn pottery at the weekend?")
    assert languages(one) == {"zh"}, texts(one)
    two = await assistant.talk(sender, "are there any free pottery classes in Nanhu?")
    assert languages(two) == {"en"}, texts(two)
    after = await assistant.talk(sender, "more")
    assert languages(after) == {"en"}, texts(after)
