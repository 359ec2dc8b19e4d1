"""Dates named in questions, in the seven languages, resolved in the city's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from knowledge.documents import CatalogItem, Session
from knowledge.search import SearchFilters
from knowledge.search.results import SearchResult
from knowledge.search.upcoming import happening_within
from knowledge.search.when import resolve_when

TUESDAY = date(2026, 12, 1)
THIS_WEEKEND = (date(2026, 12, 5), date(2026, 12, 6))
NEXT_WEEK = (date(2026, 12, 7), date(2026, 12, 13))
NEXT_WEEKEND = (date(2026, 12, 12), date(2026, 12, 13))
TOMORROW = (date(2026, 12, 2), date(2026, 12, 2))
SATURDAY = (date(2026, 12, 5), date(2026, 12, 5))
NEXT_SATURDAY = (date(2026, 12, 12), date(2026, 12, 12))


def _span(text: str, today=TUESDAY) -> tuple[date, date] | None:
    found = resolve_when(text, today, "Asia/Shanghai")
    return None if found is None else (found.start, found.end)


@pytest.mark.parametrize(
    "text",
    [
        "what's on this weekend",
        "这周末有什么活动",
        "本周末有讲座吗",
        "¿qué hay este fin de semana?",
        "quoi de neuf ce week-end ?",
        "ماذا يوجد في نهاية هذا الأسبوع",
        "что будет в эти выходные",
        "що буде на цих вихідних",
        "а цими вихідними?",
        "а этими выходными?",
    ],
)
def test_this_weekend_is_the_coming_saturday_and_sunday(text):
    assert _span(text) == THIS_WEEKEND


@pytest.mark.parametrize(
    "text",
    [
        "tomorrow",
        "明天有课吗",
        "¿hay algo mañana?",
        "demain",
        "هل هناك شيء غدا",
        "что есть завтра",
        "що є завтра",
    ],
)
def test_tomorrow(text):
    assert _span(text) == TOMORROW


@pytest.mark.parametrize(
    "text",
    [
        "events next week",
        "下周有什么",
        "la semana que viene",
        "la semaine prochaine",
        "الأسبوع القادم",
        "на следующей неделе",
        "наступного тижня",
    ],
)
def test_next_week_is_monday_to_sunday_of_the_next_week(text):
    assert _span(text) == NEXT_WEEK


@pytest.mark.parametrize(
    "text",
    [
        "on Saturday",
        "周六",
        "星期六上午",
        "el sábado",
        "samedi",
        "يوم السبت",
        "в субботу",
        "у суботу",
    ],
)
def test_a_named_weekday_is_the_next_such_day(text):
    assert _span(text) == SATURDAY


@pytest.mark.parametrize(
    "text",
    ["next Saturday", "下周六", "el próximo sábado", "samedi prochain", "в следующую субботу"],
)
def test_next_and_a_weekday_is_that_day_of_next_week(text):
    assert _span(text) == NEXT_SATURDAY


@pytest.mark.parametrize("text", ["next weekend", "下周末", "le week-end prochain"])
def test_next_weekend(text):
    assert _span(text) == NEXT_WEEKEND


def test_asked_on_a_sunday_this_weekend_is_what_is_left_of_it():
    assert _span("这周末", date(2026, 12, 6)) == (date(2026, 12, 6), date(2026, 12, 6))
    assert _span("this weekend", date(2026, 12, 5)) == THIS_WEEKEND


@pytest.mark.parametrize(
    "text", ["周末", "weekend classes", "on saturdays", "los sábados", "le samedi", "по субботам"]
)
def test_a_habit_names_no_date(text):
    assert _span(text) is None


def test_spanish_morning_is_not_tomorrow():
    assert _span("clases por la mañana") is None
    assert _span("mañana por la mañana") == TOMORROW
    assert _span("pasado mañana") == (date(2026, 12, 3), date(2026, 12, 3))


def test_today_is_the_city_s_date_not_utc():
    # Friday 23:30 UTC is already Saturday 07:30 in Hailin (Asia/Shanghai).
    friday_night_utc = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert _span("today", friday_night_utc) == SATURDAY
    assert _span("tomorrow", friday_night_utc) == (date(2026, 12, 6), date(2026, 12, 6))
    assert resolve_when("today", friday_night_utc, "Europe/London").start == date(2026, 12, 4)


def test_nothing_named_gives_none():
    assert _span("pottery class") is None
    assert _span("陶艺课") is None


def _event(item_id: str, start: str, end: str | None = None, sessions=()) -> SearchResult:  # type: ignore[no-untyped-def]
    item = CatalogItem(
        id=item_id, type="event", name=item_id, start=start, end=end, sessions=tuple(sessions)
    )
    return SearchResult(item, 1.0, None, True)


def test_events_held_this_weekend_in_the_city_s_time_zone():
    events = [
        _event("fair", "2026-12-12T10:00:00+08:00", "2026-12-12T16:00:00+08:00"),
        # 23:30 UTC on Friday is Saturday morning in Hailin
        _event("early-saturday", "2026-12-04T23:30:00+00:00", "2026-12-05T01:00:00+00:00"),
        _event("friday-night", "2026-12-04T19:00:00+08:00", "2026-12-04T21:00:00+08:00"),
        _event("week-long", "2026-12-01T09:00:00+08:00", "2026-12-07T17:00:00+08:00"),
        _event(
            "tuesday-club",
            "2026-11-03T18:00:00+08:00",
            None,
            [Session("Tue 18:00", ("tuesday",), "18:00", None, "2026-11-03", "2027-01-26")],
        ),
        _event(
            "sunday-walks",
            "2026-11-01T09:00:00+08:00",
            None,
            [Session("Sun 09:00", ("sunday",), "09:00", None, "2026-11-01", "2027-03-28")],
        ),
    ]
    weekend = resolve_when("这周末有什么活动", TUESDAY, "Asia/Shanghai")
    assert weekend is not None
    kept = happening_within(events, weekend, "Asia/Shanghai")
    assert [r.item.id for r in kept] == ["early-saturday", "week-long", "sunday-walks"]
    next_weekend = resolve_when("next weekend", TUESDAY, "Asia/Shanghai")
    assert next_weekend is not None
    assert [r.item.id for r in happening_within(events, next_weekend, "Asia/Shanghai")] == [
        "fair",
        "sunday-walks",
    ]


def test_sample_city_events_next_weekend(sample_service):
    events = sample_service.search("", limit=50, filters=SearchFilters(types=("event",)))
    span = resolve_when("what's on next weekend", TUESDAY, "Asia/Shanghai")
    assert span is not None
    found = [r.item.id for r in happening_within(events, span, "Asia/Shanghai")]
    assert "newcomers-fair-2026@learn.hailin.example" in found  # Saturday 12 December
    assert "winter-reading-night@learn.hailin.example" not in found  # the 19th
