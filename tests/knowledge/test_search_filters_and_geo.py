"""Search filters (free, weekend, evening, audience, district, type) and nearby with distances."""

from __future__ import annotations

import math

import pytest

from knowledge.documents import CatalogItem, Session
from knowledge.search import SearchFilters
from tests.knowledge.search_support import item_id


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """An independent haversine for checking the module's distances."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def test_free_filter_returns_only_free_items(sample_service):
    results = sample_service.search("english", limit=10, filters=SearchFilters(free_only=True))
    assert results
    assert all(result.item.free is True for result in results)


def test_weekend_filter_keeps_saturday_and_sunday_sessions(sample_service):
    results = sample_service.search(
        "english", limit=10, filters=SearchFilters(time_of_day="weekend")
    )
    assert results
    for result in results:
        days = {day for session in result.item.sessions for day in session.days}
        assert days & {"saturday", "sunday"}, result.item.id


def test_evening_filter_keeps_sessions_starting_at_five_or_later(sample_service):
    results = sample_service.search(
        "pottery", limit=10, filters=SearchFilters(time_of_day="evening")
    )
    assert [r.item.id for r in results] == [item_id("courses/pottery-weekday-evening")]
    assert results[0].item.sessions[0].start_time >= "17:00"


def test_audience_district_and_type_filters(sample_service):
    seniors = sample_service.search("smartphone", filters=SearchFilters(audience="seniors"))
    assert seniors and all("seniors" in r.item.audiences for r in seniors)
    nanhu = sample_service.search("cooking", filters=SearchFilters(district="南湖"))
    assert nanhu and all(r.item.district == "Nanhu" for r in nanhu)
    spaces = sample_service.search("library", filters=SearchFilters(types=("space",)))
    assert spaces and all(r.item.type == "space" for r in spaces)


def test_unknown_time_of_day_is_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match="evening"):
        SearchFilters(time_of_day="midnight")


def test_event_weekday_comes_from_its_start_date_and_space_evening_from_opening_hours():
    saturday_event = CatalogItem(id="e", type="event", name="x", start="2027-04-24T09:30:00+08:00")
    assert SearchFilters(time_of_day="weekend").matches(saturday_event)
    assert SearchFilters(time_of_day="morning").matches(saturday_event)
    assert not SearchFilters(time_of_day="evening").matches(saturday_event)
    late_space = CatalogItem(id="s", type="space", name="y", opening_hours="Mo-Fr 09:00-21:00")
    assert SearchFilters(time_of_day="evening").matches(late_space)
    assert not SearchFilters(time_of_day="weekend").matches(late_space)
    morning = CatalogItem(
        id="c", type="course", name="z", sessions=(Session("Tue 09:00", ("tuesday",), "09:00"),)
    )
    assert SearchFilters(time_of_day="weekday").matches(morning)
    assert not SearchFilters(time_of_day="evening").matches(morning)


def test_nearby_lists_items_within_the_radius_nearest_first_in_metres(sample_service, sample_items):
    library = next(i for i in sample_items if i.id == item_id("spaces/library-central"))
    results = sample_service.nearby(library.latitude, library.longitude, radius_m=1500, limit=10)
    assert library.id in [r.item.id for r in results]
    assert results[0].distance_m is not None and results[0].distance_m < 1.0  # at the library
    distances = [r.distance_m for r in results]
    assert distances == sorted(distances)
    for result in results:
        expected = _metres(
            library.latitude, library.longitude, result.item.latitude, result.item.longitude
        )
        assert result.distance_m == pytest.approx(expected, rel=1e-6, abs=0.01)
        assert result.distance_m <= 1500
    outside = [
        i for i in sample_items
        if i.latitude is not None
        and _metres(library.latitude, library.longitude, i.latitude, i.longitude) > 1500
    ]  # fmt: skip
    assert outside and not {i.id for i in outside} & {r.item.id for r in results}


def test_search_near_a_point_prefers_the_nearer_of_equal_matches(sample_service, sample_items):
    by_id = {i.id: i for i in sample_items}
    family = by_id[item_id("courses/sign-language-family")]  # Beishan, north
    results = sample_service.search("手语", near=(family.latitude, family.longitude), limit=2)
    assert results[0].item.id == family.id
    assert results[0].distance_m < results[1].distance_m
    within = sample_service.search("手语", near=(family.latitude, family.longitude), radius_m=500)
    assert [r.item.id for r in within] == [family.id]
