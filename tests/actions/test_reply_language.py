"""The reply language: chosen, else written, else earlier, else the client's, else English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

import citizens
from actions.base import resolve_language
from actions.reply_language import choose_reply_language, earlier_citizen_text
from core.database import session_scope, upgrade_database
from core.settings import get_settings


@pytest.mark.parametrize(
    ("chosen", "text", "previous", "hint", "is_answer", "expected"),
    [
        ("fr", "我想学Python", "zh", "zh-CN", False, "fr"),  # a choice outlives one message
        (None, "我想学Python", None, "en", False, "zh"),
        (None, "hola, quiero aprender cerámica", "en", None, False, "es"),
        (None, "Acabo de llegar a la ciudad y no hablo chino", "en", None, False, "es"),
        (None, "moins cher ?", "en", None, False, "fr"),
        (None, "ok", "es", None, True, "es"),  # a short answer keeps the conversation's language
        (None, "Nanhu", "zh", None, True, "zh"),
        (None, "так", "uk", None, True, "uk"),
        (None, "да", "uk", None, True, "uk"),  # one Cyrillic word does not tell uk from ru
        (None, "forget me", "zh", None, False, "en"),  # a command in English switches
        (None, "да", "es", None, True, "ru"),  # a script names its language outright
        (None, "Obrigado, onde posso aprender a nadar?", "es", None, False, "es"),  # pt: unknown
        (None, '/search_course{"schedule": "weekend"}', "uk", "en", True, "uk"),
        (None, "/greet", None, "ar-EG", False, "ar"),
        (None, "/greet", None, None, False, "en"),
    ],
)
def test_reply_language(
    chosen: str | None,
    text: str,
    previous: str | None,
    hint: str | None,
    is_answer: bool,
    expected: str,
) -> None:
    assert (
        choose_reply_language(
            chosen=chosen, text=text, previous=previous, hint=hint, is_answer=is_answer
        )
        == expected
    )


def _reply(chosen: str, text: str, earlier_text: str | None) -> str:
    return choose_reply_language(
        chosen=chosen,
        text=text,
        previous=chosen,
        hint=None,
        is_answer=False,
        earlier_text=earlier_text,
    )


def test_a_chosen_language_sticks_through_one_message_in_another_language() -> None:
    assert _reply("zh", "where can I learn pottery on weekends?", "周末有陶艺课吗") == "zh"
    assert _reply("uk", "ok", "where can I learn pottery?") == "uk"  # "ok" is not clear


def test_two_clear_messages_in_another_language_change_a_chosen_one() -> None:
    earlier = "where can I learn pottery on weekends?"
    assert _reply("zh", "are there any free ones near Nanhu?", earlier) == "en"
    assert _reply("ru", "де можна вивчати англійську мову?", "Я шукаю курси для дітей") == "uk"


def test_two_messages_in_two_different_other_languages_keep_the_choice() -> None:
    assert _reply("zh", "où puis-je apprendre la poterie ?", "where can I learn pottery?") == "zh"


def test_earlier_citizen_text_is_the_message_before_the_latest() -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "周末有陶艺课吗"},
        {"event": "bot", "text": "..."},
        {"event": "user", "text": "where can I learn pottery?"},
    ]
    assert earlier_citizen_text(events) == "周末有陶艺课吗"
    assert earlier_citizen_text(events[:2]) is None


@pytest.fixture
def citizen_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real, migrated SQLite file that the actions read the remembered language from."""
    url = f"sqlite:///{tmp_path / 'learncity.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEARNCITY_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    upgrade_database(url)
    yield url
    get_settings.cache_clear()


def _tracker(slots: dict, *texts: str) -> Tracker:
    events = [{"event": "user", "text": text} for text in texts]
    latest = {"text": texts[-1], "intent": {"name": "search_course"}, "metadata": {}}
    return Tracker("web:language-test", slots, latest, events, False, None, {}, "action_listen")


def test_a_remembered_choice_gives_way_after_two_clear_messages(citizen_database: str) -> None:
    with session_scope() as session:
        citizens.set_language(session, "web:language-test", "zh")

    one = _tracker({}, "周末有陶艺课吗", "where can I learn pottery on weekends?")
    assert resolve_language(one) == ("zh", [])

    two = _tracker(
        {}, "where can I learn pottery on weekends?", "are there any free ones near Nanhu?"
    )
    assert resolve_language(two) == ("en", [SlotSet("reply_language", "en")])
