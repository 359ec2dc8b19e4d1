"""What a card says about when: an event's dates are shown as people read them."""

from __future__ import annotations

from knowledge.documents import CatalogItem, event_when


def test_an_event_on_one_day_reads_date_then_hours() -> None:
    festival = CatalogItem(
        id="e", type="event", name="Taster day",
        start="2027-04-25T09:00:00+08:00", end="2027-04-25T16:00:00+08:00",
    )  # fmt: skip
    assert festival.schedule_text() == "2027-04-25 09:00–16:00"


def test_events_over_several_days_and_all_day_events_read_as_dates() -> None:
    assert event_when("2027-04-24", "2027-04-26") == "2027-04-24 – 2027-04-26"
    assert event_when("2027-04-24T10:00:00+08:00", "2027-04-26T17:00:00+08:00") == (
        "2027-04-24 10:00 – 2027-04-26 17:00"
    )
    assert event_when("2027-04-24") == "2027-04-24"
    assert event_when("2027-04-24T19:30") == "2027-04-24 19:30"


def test_dates_that_are_not_iso_are_shown_as_the_source_wrote_them() -> None:
    assert event_when("next spring") == "next spring"
    assert event_when("2027-04-24T10:00", "later") == "2027-04-24T10:00 – later"
