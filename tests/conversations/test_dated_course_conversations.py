"""Asking for a course on a date: only the courses held that day (or those days), the dates
said back, and a follow-up that moves them.

Today is pinned to Tuesday 1 December 2026 (LEARNCITY_TODAY in tests/conftest.py): Saturday
is the 5th, Sunday the 6th, "next week" 7-13 December. The sample city's cooking courses run
on Saturdays, Tuesdays and Sundays, its calligraphy courses on Sundays, Saturdays (children)
and Tuesdays/Thursdays (seniors), its tai chi on weekday mornings (the weekend class starts in
March), Python for Beginners on Tuesdays and Thursdays.

Runs against the trained model, the Rasa server, the action server and the sample city.
"""

from __future__ import annotations

import pytest

from tests.conftest import RunningAssistant
from tests.conversations.support import cards, catalog_text, languages, new_sender, texts

pytestmark = pytest.mark.slow

COURSES = "https://learn.hailin.example/courses/"
COOKING = {"home-cooking", "healthy-cooking-seniors", "world-cooking"}
CALLIGRAPHY = {"calligraphy", "calligraphy-seniors", "calligraphy-kids"}
TAI_CHI = {"tai-chi-morning", "tai-chi-weekend"}
PYTHON = {"python-beginners", "python-data-analysis"}


def _shown(replies: list, among: set[str]) -> list[str]:
    return sorted({card.id.removeprefix(COURSES) for card in cards(replies)} & among)


@pytest.mark.parametrize(
    ("question", "language", "among", "held", "when"),
    [
        ("are there cooking classes on Saturday?", "en", COOKING, ["home-cooking"], "5 December"),
        ("周日有书法课吗", "zh", CALLIGRAPHY, ["calligraphy"], "12月6日"),
        (
            "¿hay clases de taichí la próxima semana?",
            "es",
            TAI_CHI,
            ["tai-chi-morning"],
            "la próxima semana, 7–13 de diciembre",
        ),
        ("курсы кулинарии в воскресенье", "ru", COOKING, ["world-cooking"], "6 декабря"),
    ],
)
async def test_a_course_on_a_date_shows_only_the_courses_held_then(
    assistant: RunningAssistant,
    question: str,
    language: str,
    among: set[str],
    held: list[str],
    when: str,
) -> None:
    replies = await assistant.talk(new_sender(), question)
    assert _shown(replies, among) == held, texts(replies)
    heading = texts(replies).splitlines()[0]
    assert when in heading, heading
    assert languages(replies) == {language}


async def test_no_course_tomorrow_says_so_and_shows_the_topic_at_other_dates(
    assistant: RunningAssistant,
) -> None:
    # Wednesday 2 December: Python for Beginners is on Tuesdays and Thursdays.
    replies = await assistant.talk(new_sender(), "y a-t-il des cours de python demain ?")
    heading = texts(replies).splitlines()[0]
    assert heading == catalog_text(
        "no_courses_on_dates", "fr", query="python", when="demain, 2 décembre"
    ), texts(replies)
    assert "python-beginners" in _shown(replies, PYTHON)


async def test_a_date_after_a_course_search_moves_the_dates(assistant: RunningAssistant) -> None:
    sender = new_sender()
    first = await assistant.talk(sender, "where can I learn calligraphy?")
    assert set(_shown(first, CALLIGRAPHY)) == CALLIGRAPHY, texts(first)
    sunday = await assistant.talk(sender, "on Sunday?")
    assert _shown(sunday, CALLIGRAPHY) == ["calligraphy"], texts(sunday)
    assert "6 December" in texts(sunday).splitlines()[0], texts(sunday)
