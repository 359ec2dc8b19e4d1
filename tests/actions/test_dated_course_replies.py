"""A course search that names dates shows the courses held on those dates, and says the dates:
the chat's course action (run for real on the sample city's database and index) in the seven
languages, with today pinned to Tuesday 1 December 2026 (this weekend: 5-6 December).

Before, the chat turned the dates into a weekday/weekend filter: "cooking on Saturday" also
showed the Sunday course, "python tomorrow" (a Wednesday) the Tuesday/Thursday course as if it
were on, and "next week" narrowed nothing.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Turn
from actions.messages import say
from actions.search_actions import (
    LAST_SEARCH_SLOT,
    PENDING_NEAR_SLOT,
    ActionSearchCourses,
    ActionSearchNearby,
)
from core.replies import JSON_KEY

COURSES = "https://learn.hailin.example/courses/"
# The sample city's courses of these topics, by the weekdays they run (knowledge/sample_city).
TOPIC_COURSES = {
    "cooking": {"home-cooking", "healthy-cooking-seniors", "world-cooking"},
    "书法": {"calligraphy", "calligraphy-seniors", "calligraphy-kids"},
    "tai chi": {"tai-chi-morning", "tai-chi-weekend"},
    "python": {"python-beginners", "python-data-analysis"},
    "طبخ": {"home-cooking", "healthy-cooking-seniors", "world-cooking"},
    "английский": {
        "english-conversation",
        "english-conversation-weekend",
        "english-for-work",
        "kids-english-stories",
        "english-book-club",
    },
    "кулінарія": {"home-cooking", "healthy-cooking-seniors", "world-cooking"},
}


def _ask(text: str, topic: str | None, language: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chat's reply to `text` with `topic` read by the NLU, and the search it remembers."""
    entities = []
    if topic is not None:
        start = text.index(topic)
        entities = [{"entity": "topic", "value": topic, "start": start, "end": start + len(topic)}]
    message = {"text": text, "intent": {"name": "search_course"}, "entities": entities}
    tracker = Tracker("dated", {}, message, [], False, None, {}, "action_listen")
    turn = Turn(tracker=tracker, dispatcher=CollectingDispatcher(), language=language)
    turn.events.extend(asyncio.run(ActionSearchCourses().respond(turn)))
    (reply,) = turn.dispatcher.messages
    (state,) = [e["value"] for e in turn.events if e.get("name") == LAST_SEARCH_SLOT]
    return reply["custom"][JSON_KEY], state


def _topic_courses_shown(reply: dict[str, Any], topic: str) -> list[str]:
    shown = [card["id"].removeprefix(COURSES) for card in reply["cards"]]
    return sorted(set(shown) & TOPIC_COURSES[topic])


# The sample city's courses held on Sunday 6 December 2026 (weekly on Sundays, in term).
SUNDAY_COURSES = {
    "english-conversation-weekend",
    "world-cooking",
    "first-aid-parents",
    "calligraphy",
    "labour-rights",
    "painting-watercolour",
    "repair-cafe",
    "reading-club",
}

# (question, language, topic as the NLU reads it, the topic's courses held on the dates,
#  the dates as said back)
HELD = [
    # Saturday 5 December: not the Sunday or the Tuesday cooking course.
    ("cooking on Saturday", "en", "cooking", ["home-cooking"], "5 December"),
    # Sunday 6 December: not the children's Saturday class or the seniors' weekday one.
    ("周日有书法课吗", "zh", "书法", ["calligraphy"], "12月6日"),
    # 7-13 December: the weekday mornings; the weekend class starts in March.
    ("clases de tai chi la próxima semana", "es", "tai chi", ["tai-chi-morning"],
     "la próxima semana, 7–13 de diciembre"),
    ("دروس طبخ يوم السبت", "ar", "طبخ", ["home-cooking"], "5 ديسمبر"),
    # Thursday 3 December: the conversation club, not English for Work (Tuesdays).
    ("английский в четверг", "ru", "английский", ["english-conversation"], "3 декабря"),
    ("кулінарія в неділю", "uk", "кулінарія", ["world-cooking"], "6 грудня"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("question", "language", "topic", "held", "when"), HELD, ids=[case[0] for case in HELD]
)
def test_a_course_search_for_dates_shows_the_courses_held_on_them(
    sample_city: str,
    pinned_today: date,
    question: str,
    language: str,
    topic: str,
    held: list[str],
    when: str,
) -> None:
    reply, state = _ask(question, topic, language)
    assert _topic_courses_shown(reply, topic) == held
    assert reply["text"] == say(
        "search_results_on_dates", language, query=state["query"], when=when
    )
    # "Only weekends?" would undo the dates named; "More" and "Free only" still narrow.
    assert "weekend" not in " ".join(button["payload"] for button in reply["buttons"])


def test_no_course_on_the_dates_says_so_and_shows_the_topic_at_other_dates(
    sample_city: str, pinned_today: date
) -> None:
    # Wednesday 2 December: Python for Beginners is on Tuesdays and Thursdays.
    reply, state = _ask("cours de python demain", "python", "fr")
    assert reply["text"] == say(
        "no_courses_on_dates", "fr", query=state["query"], when="demain, 2 décembre"
    )
    assert "python-beginners" in _topic_courses_shown(reply, "python")
    assert state["dates"] == {"start": "2026-12-02", "end": "2026-12-02", "meaning": "tomorrow"}


def test_a_date_alone_lists_the_courses_held_that_day(sample_city: str, pinned_today: date) -> None:
    reply, state = _ask("any courses on Sunday?", None, "en")
    assert reply["text"] == say("courses_on_dates", "en", when="6 December")
    shown = [card["id"].removeprefix(COURSES) for card in reply["cards"]]
    assert shown and set(shown) <= SUNDAY_COURSES, shown
    assert state["dates"] == {"start": "2026-12-06", "end": "2026-12-06", "meaning": "weekday"}


def test_words_with_no_topic_read_are_searched_on_the_dates(
    sample_city: str, pinned_today: date
) -> None:
    # The NLU read no topic in "taichí": the citizen's words are searched, on 7-13 December.
    reply, state = _ask("¿hay clases de taichí la próxima semana?", None, "es")
    assert _topic_courses_shown(reply, "tai chi") == ["tai-chi-morning"]
    assert state["dates"] == {"start": "2026-12-07", "end": "2026-12-13", "meaning": "next_week"}


PEOPLES_SQUARE = {"latitude": 31.23, "longitude": 121.47}  # no pottery class within 3 km


def _near_me(text: str, topic: str, language: str) -> dict[str, Any]:
    """The chat asks for the location, the citizen shares it: the reply to that."""
    start = text.index(topic)
    entities = [{"entity": "topic", "value": topic, "start": start, "end": start + len(topic)}]
    message = {"text": text, "intent": {"name": "search_course"}, "entities": entities}
    tracker = Tracker("dated", {}, message, [], False, None, {}, "action_listen")
    turn = Turn(tracker=tracker, dispatcher=CollectingDispatcher(), language=language)
    events = asyncio.run(ActionSearchCourses().respond(turn))
    (pending,) = [e["value"] for e in events if e.get("name") == PENDING_NEAR_SLOT]
    shared = {
        "text": "/share_location",
        "intent": {"name": "share_location"},
        "entities": [{"entity": name, "value": value} for name, value in PEOPLES_SQUARE.items()],
    }
    tracker = Tracker("dated", {PENDING_NEAR_SLOT: pending}, shared, [], False, None, {}, "")
    turn = Turn(tracker=tracker, dispatcher=CollectingDispatcher(), language=language)
    asyncio.run(ActionSearchNearby().respond(turn))
    (reply,) = turn.dispatcher.messages
    return reply["custom"][JSON_KEY]


def test_near_me_on_a_date_keeps_to_the_courses_held_then(
    sample_city: str, pinned_today: date
) -> None:
    # The Wednesday evening class (5.2 km, from March) is nearer than the Saturday one (7.4 km).
    weekend = _near_me("pottery near me this weekend", "pottery", "en")
    assert [card["id"].removeprefix(COURSES) for card in weekend["cards"]] == ["pottery-beginners"]
    assert weekend["text"] == say("nearby_widened_results", "en", first="3", km="10")
    # Tomorrow (Wednesday 2 December) neither is held: said, then the nearest at other dates.
    tomorrow = _near_me("poterie près de moi demain", "poterie", "fr")
    assert tomorrow["text"] == say(
        "no_courses_on_dates", "fr", query="poterie", when="demain, 2 décembre"
    )
    shown = [card["id"].removeprefix(COURSES) for card in tomorrow["cards"]]
    assert [name for name in shown if name.startswith("pottery")] == [
        "pottery-weekday-evening",
        "pottery-beginners",
    ]
