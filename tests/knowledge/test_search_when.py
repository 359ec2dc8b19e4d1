"""Dates named in questions, in the seven languages, resolved in the city's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

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
