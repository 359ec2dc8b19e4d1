"""Dates in the search conversation: "this weekend" lists that weekend's events of the sample
city (knowledge/sample_city/events.ics), with today pinned to Tuesday 1 December 2026."""

from __future__ import annotations

from datetime import date

import pytest

from actions import event_dates, search_flow
from knowledge.search import DateSpan


def _entity(name: str, value: str) -> dict[str, str]:
    return {"entity": name, "value": value}


def _event_names(text: str, entities: list[dict[str, str]]) -> tuple[search_flow.SearchPage, set]:
    state = search_flow.plan_search("event", text=text, entities=entities, previous=None)
    assert state is not None
    page = search_flow.run_search(state, "en")
    return page, {result.item.name for result in page.results}


def test_today_is_the_pinned_date_else_the_city_clock(pinned_today: date) -> None:
    assert event_dates.city_today() == pinned_today
    assert event_dates.city_time_zone() == "Asia/Shanghai"
    now = event_dates.city_now()
    assert now is not None and now.isoformat() == "2026-12-01T00:00:00+08:00"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "this weekend, 5–6 December"),
        ("zh", "这周末（12月5日至6日）"),
        ("es", "este fin de semana, 5–6 de diciembre"),
        ("fr", "ce week-end, 5–6 décembre"),
        ("ar", "نهاية هذا الأسبوع، 5–6 ديسمبر"),
        ("ru", "в эти выходные, 5–6 декабря"),
        ("uk", "цими вихідними, 5–6 грудня"),
    ],
)
def test_the_dates_understood_are_said_in_the_citizens_language(
    language: str, expected: str
) -> None:
    span = DateSpan(date(2026, 12, 5), date(2026, 12, 6), "this_weekend")
    assert event_dates.describe(span, language) == expected


def test_a_span_across_months_and_a_named_weekday_show_their_dates() -> None:
    across = DateSpan(date(2026, 12, 28), date(2027, 1, 3), "next_week")
    assert event_dates.describe(across, "en") == "next week, 28 December – 3 January"
    saturday = DateSpan(date(2026, 12, 5), date(2026, 12, 5), "weekday")
    assert event_dates.describe(saturday, "zh") == "12月5日"


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        ("what's on this weekend?", []),
        ("what's on this weekend?", [_entity("schedule", "weekend")]),
        ("这周末有什么活动", [_entity("schedule", "weekend")]),
        ("¿qué hay este fin de semana?", []),
    ],
)
def test_this_weekend_lists_only_this_weekends_events(
    sample_city: str, pinned_today: date, text: str, entities: list[dict[str, str]]
) -> None:
    page, names = _event_names(text, entities)
    assert page.state.dates == {
        "start": "2026-12-05",
        "end": "2026-12-06",
        "meaning": "this_weekend",
    }
    assert not page.dates_missed
    assert names == {"Maker Saturday (monthly)"}


def test_next_weekend_lists_next_weekends_events(sample_city: str, pinned_today: date) -> None:
    page, names = _event_names("anything on next weekend?", [])
    assert page.state.dates == {
        "start": "2026-12-12",
        "end": "2026-12-13",
        "meaning": "next_weekend",
    }
    assert "Newcomers' Welcome Fair" in names
    assert "冬夜读书会" not in names  # 19 December


def test_a_bare_weekend_names_no_date_and_lists_every_upcoming_weekend_event(
    sample_city: str, pinned_today: date
) -> None:
    page, names = _event_names("周末有什么活动", [_entity("schedule", "weekend")])
    assert page.state.dates is None
    assert {"Newcomers' Welcome Fair", "Maker Saturday (monthly)"} <= names


def test_no_event_on_the_dates_asked_offers_the_next_events(
    sample_city: str, pinned_today: date
) -> None:
    page, names = _event_names("what's on tomorrow?", [])
    assert page.state.dates == {"start": "2026-12-02", "end": "2026-12-02", "meaning": "tomorrow"}
    assert page.dates_missed
    assert "Maker Saturday (monthly)" in names and not page.unmet


def test_a_date_dates_a_course_search(pinned_today: date) -> None:
    """The dates go to the search policy as dates (it keeps the courses held on them), not as
    a weekday/weekend filter that kept every Saturday course for "this weekend"."""
    weekend = search_flow.plan_search(
        "course", text="pottery this weekend", entities=[_entity("topic", "pottery")], previous=None
    )
    week = search_flow.plan_search(
        "course", text="python next week", entities=[_entity("topic", "python")], previous=None
    )
    bare = search_flow.plan_search(
        "course", text="any courses tomorrow?", entities=[], previous=None
    )
    assert weekend is not None and weekend.filters == {}
    assert weekend.dates == {"start": "2026-12-05", "end": "2026-12-06", "meaning": "this_weekend"}
    assert week is not None and week.dates == {
        "start": "2026-12-07",
        "end": "2026-12-13",
        "meaning": "next_week",
    }
    assert bare == search_flow.SearchState(
        kind="course", dates={"start": "2026-12-02", "end": "2026-12-02", "meaning": "tomorrow"}
    )
    request = search_flow.search_request(weekend, "en")
    assert request.dates == DateSpan(date(2026, 12, 5), date(2026, 12, 6), "this_weekend")


def test_a_date_alone_after_a_course_search_moves_its_dates(pinned_today: date) -> None:
    previous = search_flow.SearchState(
        query="pottery",
        topic="pottery",
        dates={"start": "2026-12-05", "end": "2026-12-06", "meaning": "this_weekend"},
    )
    asked = search_flow.plan_search(
        "course", text="and next week?", entities=[], previous=previous, refine_previous=True
    )
    free = search_flow.plan_search(
        "course", text="free ones?", entities=[_entity("price", "free")], previous=previous
    )
    assert asked is not None and asked.dates == {
        "start": "2026-12-07",
        "end": "2026-12-13",
        "meaning": "next_week",
    }
    assert free is not None and free.dates == previous.dates  # "free ones" keeps the dates


def test_the_dates_survive_the_slot_so_more_pages_keep_them() -> None:
    state = search_flow.SearchState(
        kind="event", dates={"start": "2026-12-05", "end": "2026-12-06", "meaning": "this_weekend"}
    )
    assert search_flow.SearchState.from_slot(state.as_slot()) == state


def test_a_date_alone_after_whats_on_dates_the_events(pinned_today: date) -> None:
    previous = search_flow.SearchState(kind="event")
    asked = search_flow.plan_search(
        "course", text="and next weekend?", entities=[], previous=previous, refine_previous=True
    )
    assert asked == search_flow.SearchState(
        kind="event", dates={"start": "2026-12-12", "end": "2026-12-13", "meaning": "next_weekend"}
    )


def test_events_found_by_topic_keep_to_the_dates_asked(
    sample_city: str, pinned_today: date
) -> None:
    def fair(text: str) -> search_flow.SearchPage:
        state = search_flow.plan_search(
            "event", text=text, entities=[_entity("topic", "welcome fair")], previous=None
        )
        assert state is not None and state.dates is not None
        return search_flow.run_search(state, "en")

    next_weekend, this_weekend = (
        fair("welcome fair next weekend"),
        fair("welcome fair this weekend"),
    )
    assert [r.item.name for r in next_weekend.results][:1] == ["Newcomers' Welcome Fair"]
    assert not next_weekend.dates_missed
    assert this_weekend.dates_missed  # on 12 December: said, and shown anyway
    assert "Newcomers' Welcome Fair" in [r.item.name for r in this_weekend.results]
