"""The reply language: chosen, else written, else earlier, else the client's, else English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

import citizens
from actions.base import resolve_language
from actions.reply_language import (
    choose_reply_language,
    decided_this_turn,
    language_to_remember,
)
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
        (None, "hello", None, None, False, "en"),  # one word is a guess: the default
        (None, "hello", "es", None, False, "es"),  # ... or the conversation's language
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


def _conversation(chosen: str, *messages: str) -> list[str]:
    """Reply languages of a conversation, carrying the slot the way actions/base.py does."""
    replies, remembered = [], None
    for text in messages:
        language = choose_reply_language(
            chosen=chosen,
            text=text,
            previous=remembered,
            hint=None,
            is_answer=False,
            earlier_language=remembered,
        )
        remembered = language_to_remember(
            chosen=chosen, language=language, text=text, hint=None, choosing=False
        )
        chosen = language
        replies.append(language)
    return replies


def test_a_chosen_language_sticks_through_one_message_in_another_language() -> None:
    assert _conversation("zh", "where can I learn pottery on weekends?") == ["zh"]
    assert _conversation("zh", "周末有陶艺课吗", "where can I learn pottery?") == ["zh", "zh"]
    assert _conversation("uk", "where can I learn pottery?", "ok") == ["uk", "uk"]  # "ok": unclear


def test_two_clear_messages_in_another_language_change_a_chosen_one() -> None:
    assert _conversation(
        "zh", "where can I learn pottery on weekends?", "are there any free ones near Nanhu?", "ok"
    ) == ["zh", "en", "en"]
    assert _conversation("ru", "Я шукаю курси для дітей", "де можна вивчати англійську мову?") == [
        "ru",
        "uk",
    ]


def test_two_messages_in_two_different_other_languages_keep_the_choice() -> None:
    assert _conversation(
        "zh", "where can I learn pottery?", "où puis-je apprendre la poterie ?"
    ) == ["zh", "zh"]


def test_choosing_a_language_forgets_what_was_written_before() -> None:
    kept = language_to_remember(
        chosen=None, language="en", text='/set_language{"language": "zh"}', hint=None, choosing=True
    )
    assert kept is None


def test_a_slot_set_earlier_in_the_turn_means_the_turn_already_decided() -> None:
    slots = ("detected_language", "reply_language")
    this_turn = [
        {"event": "user", "text": "where can I learn pottery?"},
        {"event": "slot", "name": "detected_language", "value": "en"},
    ]
    assert decided_this_turn(this_turn, slots)
    assert not decided_this_turn(this_turn[:1], slots)


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


def _tracker(slots: dict, text: str) -> Tracker:
    latest = {"text": text, "intent": {"name": "search_course"}, "metadata": {}}
    events = [{"event": "user", "text": text}]  # the action server sees only this turn
    return Tracker("web:language-test", slots, latest, events, False, None, {}, "action_listen")


def test_a_remembered_choice_gives_way_after_two_clear_messages(citizen_database: str) -> None:
    with session_scope() as session:
        citizens.set_language(session, "web:language-test", "zh")

    first = "where can I learn pottery on weekends?"
    assert resolve_language(_tracker({}, first)) == (
        "zh",
        [SlotSet("detected_language", "en")],
    )
    second = _tracker({"detected_language": "en"}, "are there any free ones near Nanhu?")
    assert resolve_language(second) == ("en", [SlotSet("reply_language", "en")])
