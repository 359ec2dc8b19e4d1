"""A course search for dates ("guitar this weekend", "吉他 明天", "guitare la semaine prochaine")
keeps the courses that really have a session on those dates in the city's time zone, not
every course held at weekends (or on weekdays): through the search service's policy
(`knowledge.answer_search`) over the sample city plus dated guitar courses, with the real
model and index, and once through `learncity search`.

January 2027 starts on a Friday: the weekend of Monday 25 January is the 30th-31st (the
fifth Saturday and Sunday); 7 February is the first Sunday of February.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from knowledge.documents import CatalogItem, Session
from knowledge.search.when import resolve_when
from tests.environment import settings_from_environment
from tests.knowledge.search_support import item_id, learncity_search

ZONE = "Asia/Shanghai"
# The sample city's: Fridays 19:00, from 7 September 2026 to 22 January 2027.
SAMPLE_GUITAR = item_id("courses/guitar-beginners")


def _guitar(short: str, name: str, *sessions: Session) -> CatalogItem:
    return CatalogItem(
        id=f"https://learn.hailin.example/courses/{short}",
        type="course",
        name=name,
        description="Chords, strumming and songs on the acoustic guitar.",
        topics=("guitar", "吉他"),
        languages=("en",),
        district="Beishan",
        sessions=sessions,
    )


SATURDAYS = _guitar(
    "guitar-saturdays",
    "Guitar on Saturdays",
    Session("Sat 10:00-12:00", ("saturday",), "10:00", "12:00"),
)
FIRST_SUNDAY = _guitar(
    "guitar-first-sunday",
    "Guitar circle, first Sunday",
    Session("1st Sun 15:00", ("sunday",), "15:00", weeks_of_month=(1,)),
)
ENDED_SATURDAYS = _guitar(
    "guitar-autumn-saturdays",
    "Autumn guitar term",
    Session("Sat 14:00", ("saturday",), "14:00", None, "2026-09-05", "2026-12-19"),
)
SUMMER_CAMP = _guitar(
    "guitar-summer-camp",
    "Guitar summer camp",
    Session("5-9 July 09:00-16:00", (), "09:00", "16:00", "2027-07-05", "2027-07-09"),
)
NEW_YEAR = _guitar(
    "guitar-new-year",
    "New Year's Day guitar jam",
    Session("1 January 14:00", (), "14:00", None, "2027-01-01", months=(1,), month_days=(1,)),
)
DATED = (SATURDAYS, FIRST_SUNDAY, ENDED_SATURDAYS, SUMMER_CAMP, NEW_YEAR)
GUITARS = {SAMPLE_GUITAR, *(item.id for item in DATED)}


@pytest.fixture(scope="module")
def city(
    sample_items: list[CatalogItem], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The sample city and the dated guitar courses, indexed where the policy searches."""
    from knowledge.search import get_search_service

    data_dir = tmp_path_factory.mktemp("dated-courses")
    with settings_from_environment({"LEARNCITY_DATA_DIR": str(data_dir)}):
        assert get_search_service().ensure_index([*sample_items, *DATED]).rebuilt
        yield


def _guitar_courses(question: str, today: date | datetime, language: str, tz: str = ZONE):
    """The guitar courses a citizen asking `question` on `today` is shown, and the notes."""
    from knowledge import SearchRequest, answer_search

    span = resolve_when(question, today, tz)
    assert span is not None, question
    answer = answer_search(
        SearchRequest(
            query="guitar" if language != "zh" else "吉他",
            topic="guitar",
            kind="course",
            dates=span,
            language=language,
            page_size=10,
            time_zone=tz,
        )
    )
    shown = {result.item.id for result in answer.results}
    return sorted(shown & GUITARS), [note.as_dict() for note in answer.notes]


def test_this_weekend_keeps_only_courses_held_that_weekend(city):
    # Not the first-Sunday circle (the 31st is the fifth Sunday), not the term that ended in
    # December, not the Friday course: a weekend filter alone kept all three Saturday/Sunday ones.
    assert _guitar_courses("guitar this weekend", date(2027, 1, 25), "en") == (
        [SATURDAYS.id],
        [],
    )
    assert _guitar_courses("这周末有吉他课吗", date(2027, 1, 25), "zh") == ([SATURDAYS.id], [])
    # The next weekend is 6-7 February: the first Sunday of February.
    assert _guitar_courses("el próximo fin de semana", date(2027, 1, 25), "es") == (
        sorted([SATURDAYS.id, FIRST_SUNDAY.id]),
        [],
    )


def test_named_weekdays_and_tomorrow_in_several_languages(city):
    # Thursday 14 January: tomorrow is Friday, the sample city's Friday evening course.
    assert _guitar_courses("demain", date(2027, 1, 14), "fr") == ([SAMPLE_GUITAR], [])
    assert _guitar_courses("غدا", date(2027, 1, 14), "ar") == ([SAMPLE_GUITAR], [])
    # Thursday 28 January: its term ended on the 22nd.
    assert _guitar_courses("demain", date(2027, 1, 28), "fr")[1] == [
        {"note": "dates_missed", "start": "2027-01-29", "end": "2027-01-29", "kind": "course"}
    ]
    # Monday 1 February: "on Sunday" is the 7th, the first Sunday of the month.
    assert _guitar_courses("в воскресенье", date(2027, 2, 1), "ru") == ([FIRST_SUNDAY.id], [])
    # Monday 8 February: "on Sunday" is the 14th, the second one: no guitar that day.
    courses, notes = _guitar_courses("у неділю", date(2027, 2, 8), "uk")
    assert notes == [
        {"note": "dates_missed", "start": "2027-02-14", "end": "2027-02-14", "kind": "course"}
    ]
    assert FIRST_SUNDAY.id in courses  # the topic at other dates, said so


def test_a_span_of_dates_and_a_yearly_session_across_the_year_end(city):
    # Wednesday 30 June: next week is 5-11 July, the summer camp's week (Monday to Friday),
    # and it holds the Saturday course; not the Friday one (its term ended in January).
    assert _guitar_courses("next week", date(2027, 6, 30), "en")[0] == sorted(
        [SUMMER_CAMP.id, SATURDAYS.id]
    )
    # 31 December 2026, 17:00 UTC is already 1 January 2027 in the city: "today" is New
    # Year's Day, a Friday; in New York it is still 31 December (a Thursday).
    new_year = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert _guitar_courses("today", new_year, "en")[0] == sorted([NEW_YEAR.id, SAMPLE_GUITAR])
    # (The search may still find music that day, the choir: no guitar course.)
    assert _guitar_courses("today", new_year, "en", "America/New_York")[0] == []
    # A year later, New Year's Day 2028 (a Saturday): the yearly jam and the Saturday course.
    assert _guitar_courses("tomorrow", date(2027, 12, 31), "en")[0] == sorted(
        [NEW_YEAR.id, SATURDAYS.id]
    )


def test_the_command_line_shows_the_same_dates(tmp_path: Path):
    """`learncity search guitar --kind course --dates ...` over the sample city's database."""

    def shown(dates: str) -> tuple[list[str], list[dict]]:
        answer = learncity_search(
            ["guitar", "--kind", "course", "--dates", dates],
            tmp_path,
            LEARNCITY_TODAY="2027-01-14",  # a Thursday: tomorrow is Friday
        )
        return [row["id"] for row in answer["results"]], answer["notes"]

    assert shown("tomorrow") == ([SAMPLE_GUITAR], [])
    # Saturday the 16th: the sample city's only guitar course is on Fridays; it is shown as
    # the topic at other dates, and said so.
    others, notes = shown("周六")
    assert others[0] == SAMPLE_GUITAR
    assert notes == [
        {"note": "dates_missed", "start": "2027-01-16", "end": "2027-01-16", "kind": "course"}
    ]
