"""Recurring events on their real dates: a monthly event ("the first Saturday") is listed for
that Saturday only, read from each catalog format and asked with "this weekend", "tomorrow",
"next week" or a named weekday, across month boundaries, in the city's time zone.

January 2027 starts on a Friday: its Saturdays are the 2nd, 9th, 16th, 23rd and 30th; the
first Saturday of February is the 6th, its last day the 28th (a Sunday).
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from knowledge.documents import CatalogItem
from knowledge.importers import read_catalog
from knowledge.search.results import SearchResult
from knowledge.search.upcoming import happening_within, still_to_come
from knowledge.search.when import resolve_when

ZONE = "Asia/Shanghai"

CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learncity tests//EN
BEGIN:VEVENT
UID:repair-cafe
SUMMARY:Repair cafe
DTSTART;TZID=Asia/Shanghai:20270102T140000
DTEND;TZID=Asia/Shanghai:20270102T170000
RRULE:FREQ=MONTHLY;BYDAY=1SA
END:VEVENT
BEGIN:VEVENT
UID:board-games
SUMMARY:Board games
DTSTART;TZID=Asia/Shanghai:20270109T190000
RRULE:FREQ=MONTHLY;BYDAY=SA;BYSETPOS=2
END:VEVENT
BEGIN:VEVENT
UID:last-friday-film
SUMMARY:Last Friday film
DTSTART;TZID=Asia/Shanghai:20261225T190000
RRULE:FREQ=MONTHLY;BYDAY=-1FR
END:VEVENT
BEGIN:VEVENT
UID:first-of-month-talk
SUMMARY:First of the month talk
DTSTART;VALUE=DATE:20270101
RRULE:FREQ=MONTHLY
END:VEVENT
BEGIN:VEVENT
UID:fortnightly-walk
SUMMARY:Fortnightly walk
DTSTART;TZID=Asia/Shanghai:20270102T090000
RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SA
END:VEVENT
BEGIN:VEVENT
UID:weekly-chess
SUMMARY:Weekly chess
DTSTART;TZID=Asia/Shanghai:20270102T100000
RRULE:FREQ=WEEKLY;BYDAY=SA;COUNT=6
EXDATE;TZID=Asia/Shanghai:20270116T100000
END:VEVENT
END:VCALENDAR
"""

JSONLD = """{
  "@context": "https://schema.org",
  "@graph": [
    {
      "@type": "Event",
      "@id": "story-hour",
      "name": "Story hour",
      "startDate": "2027-01-02T10:00:00+08:00",
      "eventSchedule": {
        "@type": "Schedule",
        "byDay": "https://schema.org/Saturday",
        "byMonthWeek": [1, 3],
        "repeatFrequency": "P1M",
        "startTime": "10:00",
        "exceptDate": "2027-02-06"
      }
    },
    {
      "@type": "Event",
      "@id": "month-end-market",
      "name": "Month-end market",
      "startDate": "2027-01-31",
      "eventSchedule": {"@type": "Schedule", "repeatFrequency": "P1M", "byMonthDay": -1}
    }
  ]
}
"""

CSV = """id,type,name,days,month_days,except_dates,start_date,start
sewing-circle,event,Sewing circle,1Su | 3Su,,,2027-01-01,2027-01-03
pay-day-advice,event,Pay-day advice,,15,2027-02-15,2027-01-01,2027-01-15
"""


def _written(folder: Path, name: str, calendar: str, jsonld: str, csv: str) -> Path:
    """`folder` holding one catalog file of each format named `name`."""
    for extension, content in (("ics", calendar), ("jsonld", jsonld), ("csv", csv)):
        (folder / f"{name}.{extension}").write_text(content)
    return folder


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[SearchResult]:
    folder = _written(tmp_path_factory.mktemp("recurring"), "events", CALENDAR, JSONLD, CSV)
    parsed = read_catalog(folder)
    assert [r for f in parsed for r in f.rejected] == []
    items: list[CatalogItem] = [item for f in parsed for item in f.items]
    return [SearchResult(item, 1.0, None, True) for item in items]


def _on(events: list[SearchResult], question: str, today: date | datetime) -> list[str]:
    return _on_in(events, question, today, ZONE)


def _on_in(
    events: list[SearchResult], question: str, today: date | datetime, zone: str
) -> list[str]:
    span = resolve_when(question, today, zone)
    assert span is not None, question
    return sorted(result.item.id for result in happening_within(events, span, zone))


def test_this_weekend_lists_a_first_saturday_event_only_on_the_first_saturday(events):
    # Monday 25 January: this weekend is the 30th-31st, the fifth Saturday of January.
    assert _on(events, "what's on this weekend", date(2027, 1, 25)) == [
        "fortnightly-walk",
        "month-end-market",
        "weekly-chess",
    ]
    # Monday 1 February: this weekend is the 6th-7th (the first Saturday and Sunday of the
    # month); story hour is excepted that day.
    assert _on(events, "这周末有什么活动", date(2027, 2, 1)) == [
        "repair-cafe",
        "sewing-circle",
        "weekly-chess",
    ]


def test_next_week_across_the_month_boundary(events):
    # Friday 29 January: next week is 1-7 February.
    assert _on(events, "anything next week?", date(2027, 1, 29)) == [
        "first-of-month-talk",
        "repair-cafe",
        "sewing-circle",
        "weekly-chess",
    ]
    # Friday 22 January: next week is 25-31 January, with the last Friday and the last day.
    assert _on(events, "la semaine prochaine", date(2027, 1, 22)) == [
        "fortnightly-walk",
        "last-friday-film",
        "month-end-market",
        "weekly-chess",
    ]


def test_tomorrow_on_the_first_and_last_day_of_a_month(events):
    assert _on(events, "tomorrow", date(2027, 1, 31)) == ["first-of-month-talk"]
    assert _on(events, "明天", date(2027, 2, 27)) == ["month-end-market"]
    assert _on(events, "mañana", date(2027, 2, 14)) == []  # the 15th is excepted in February
    assert _on(events, "mañana", date(2027, 1, 14)) == ["pay-day-advice"]


def test_a_named_weekday_across_the_month_boundary(events):
    # Sunday 31 January: "saturday" is 6 February, the first Saturday of February (and the
    # last of the weekly chess).
    assert _on(events, "what's on saturday", date(2027, 1, 31)) == ["repair-cafe", "weekly-chess"]
    # Sunday 24 January: "saturday" is the 30th, no first, second or third Saturday.
    assert _on(events, "в субботу", date(2027, 1, 24)) == ["fortnightly-walk", "weekly-chess"]
    # Monday 4 January: "sunday" is the 10th, not the first or third Sunday of the month.
    assert _on(events, "on sunday", date(2027, 1, 4)) == []
    assert _on(events, "on sunday", date(2027, 1, 12)) == ["sewing-circle"]  # the 17th


def test_the_second_saturday_and_the_end_of_a_counted_weekly_series(events):
    # Tuesday 2 February: "next saturday" is the 13th, the second Saturday of February; the
    # weekly chess (COUNT=6 from 2 January, the 16th excepted) ended on the 6th.
    assert _on(events, "next saturday", date(2027, 2, 2)) == ["board-games", "fortnightly-walk"]
    assert _on(events, "next saturday", date(2027, 2, 9)) == ["story-hour"]  # the 20th


def test_today_is_the_city_s_date(events):
    # 17:30 UTC on Friday 29 January is 01:30 on Saturday the 30th in the city.
    assert _on(events, "today", datetime(2027, 1, 29, 17, 30, tzinfo=UTC)) == [
        "fortnightly-walk",
        "weekly-chess",
    ]
    assert _on(events, "today", datetime(2027, 1, 29, 15, 30, tzinfo=UTC)) == ["last-friday-film"]


def test_a_bad_recurrence_is_rejected_naming_the_field_and_value(tmp_path: Path):
    (tmp_path / "bad.csv").write_text(
        "id,type,name,start,days,month_days,except_dates\n"
        "a,event,A,2027-01-02,6Sa,,\n"
        "b,event,B,2027-01-02,,32,\n"
        "c,event,C,2027-01-02,Sa,,next week\n"
    )
    (tmp_path / "bad.ics").write_text(
        CALENDAR.replace("RRULE:FREQ=MONTHLY;BYDAY=1SA", "RRULE:FREQ=MONTHLY;BYDAY=9SA")
    )
    rejected = [
        (r.file, r.position, r.field, r.value) for f in read_catalog(tmp_path) for r in f.rejected
    ]
    assert rejected == [
        ("bad.csv", "row 2", "days", "6Sa"),
        ("bad.csv", "row 3", "month_days", "32"),
        ("bad.csv", "row 4", "except_dates", "next"),
        ("bad.ics", "VEVENT UID repair-cafe", "RRULE", "9SA"),
    ]


def test_what_is_on_lists_a_repeating_event_by_its_next_date(events):
    fair = CatalogItem(
        id="winter-fair", type="event", name="Winter fair", start="2027-01-20T10:00:00+08:00"
    )
    listed = [*events, SearchResult(fair, 1.0, None, True)]
    # 20:00 on Sunday 10 January in the city: each series by its next date (story hour the
    # 16th, the third Saturday; the chess skips its excepted 16th; board games next meet on
    # the second Saturday of February), the one-off fair on the 20th among them.
    now = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    assert [result.item.id for result in still_to_come(listed, now, ZONE)] == [
        "pay-day-advice",  # 15 January
        "fortnightly-walk",  # 16 January 09:00
        "story-hour",  # 16 January 10:00
        "sewing-circle",  # 17 January
        "winter-fair",  # 20 January
        "weekly-chess",  # 23 January
        "last-friday-film",  # 29 January
        "month-end-market",  # 31 January
        "first-of-month-talk",  # 1 February
        "repair-cafe",  # 6 February
        "board-games",  # 13 February
    ]
    # After 13 February the chess series (ended on the 6th) is no longer listed.
    later = [r.item.id for r in still_to_come(listed, datetime(2027, 2, 13, tzinfo=UTC), ZONE)]
    assert "weekly-chess" not in later and "repair-cafe" in later


# Yearly series, one per format. 4 December 2027 is the first Saturday of that December, 3
# October 2027 the first Sunday of that October, 3 July 2027 a Saturday.
YEARLY_CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learncity tests//EN
BEGIN:VEVENT
UID:new-years-eve-concert
SUMMARY:New Year's Eve concert
DTSTART;TZID=Asia/Shanghai:20261231T200000
RRULE:FREQ=YEARLY
END:VEVENT
BEGIN:VEVENT
UID:winter-market
SUMMARY:Winter market
DTSTART;TZID=Asia/Shanghai:20261205T100000
RRULE:FREQ=YEARLY;BYMONTH=12;BYDAY=1SA
END:VEVENT
BEGIN:VEVENT
UID:summer-saturdays
SUMMARY:Summer Saturdays
DTSTART;TZID=Asia/Shanghai:20270703T090000
RRULE:FREQ=YEARLY;BYMONTH=7,8;BYDAY=SA
END:VEVENT
BEGIN:VEVENT
UID:biennial-fair
SUMMARY:Biennial fair
DTSTART;VALUE=DATE:20270101
RRULE:FREQ=YEARLY;INTERVAL=2
END:VEVENT
END:VCALENDAR
"""
YEARLY_JSONLD = """{
  "@context": "https://schema.org",
  "@type": "Event",
  "@id": "spring-fair",
  "name": "Spring fair",
  "startDate": "2027-03-21T10:00:00+08:00",
  "eventSchedule": {
    "@type": "Schedule", "repeatFrequency": "P1Y", "byMonth": 3, "byMonthDay": 21,
    "startDate": "2027-03-21", "startTime": "10:00"
  }
}
"""
YEARLY_CSV = """id,type,name,days,months,start_date,start
harvest-walk,event,Harvest walk,1Su,10,2026-10-04,2026-10-04T09:00:00+08:00
"""


@pytest.fixture(scope="module")
def yearly(tmp_path_factory: pytest.TempPathFactory) -> list[SearchResult]:
    from tests.knowledge.test_importers import DATA

    folder = _written(
        tmp_path_factory.mktemp("yearly"), "yearly", YEARLY_CALENDAR, YEARLY_JSONLD, YEARLY_CSV
    )
    # An HSDS package whose Mandarin course meets once a year, on 31 December (valid_from's
    # day, no bymonth given).
    package = folder / "hsds"
    shutil.copytree(DATA / "hsds", package)
    schedules = package / "schedules.csv"
    schedules.write_text(
        schedules.read_text(encoding="utf-8").replace(
            'sch-1,svc-mandarin,,,2026-09-07,2027-01-22,,WEEKLY,1,"MO,WE",',
            "sch-1,svc-mandarin,,,2026-12-31,,,YEARLY,1,,",
        ),
        encoding="utf-8",
    )
    items = [item for f in read_catalog(folder) for item in f.items]
    kept = [item for item in items if "first-aid" not in item.id]  # HSDS's weekly others
    assert sorted(item.id for item in kept) == [
        "biennial-fair",
        "harvest-walk",
        "new-years-eve-concert",
        "spring-fair",
        "summer-saturdays",
        "svc-mandarin",
        "winter-market",
    ]
    return [SearchResult(item, 1.0, None, True) for item in kept]


def test_yearly_series_are_listed_on_their_dates_only(yearly):
    # Not every Saturday: the first Saturday of December, Saturdays in July and August.
    assert _on(yearly, "this weekend", date(2027, 1, 25)) == []
    assert _on(yearly, "这周末", date(2027, 11, 29)) == ["winter-market"]  # 4-5 December
    assert _on(yearly, "в субботу", date(2027, 6, 28)) == ["summer-saturdays"]  # 3 July
    # The first Sunday of October (the 3rd), not the second (the 10th).
    assert _on(yearly, "this weekend", date(2027, 9, 27)) == ["harvest-walk"]
    assert _on(yearly, "next weekend", date(2027, 9, 27)) == []


def test_yearly_dates_across_the_year_end_and_in_the_city_s_time_zone(yearly):
    # Thursday 30 December 2027: tomorrow is New Year's Eve (the concert, from DTSTART's day,
    # and the HSDS course dated from valid_from); the biennial fair is 2027, 2029, ...
    assert _on(yearly, "tomorrow", date(2027, 12, 30)) == [
        "new-years-eve-concert",
        "svc-mandarin",
    ]
    assert _on(yearly, "next week", date(2027, 12, 30)) == []  # 3-9 January 2028
    assert _on(yearly, "la semaine prochaine", date(2028, 12, 27)) == ["biennial-fair"]
    # 17:00 UTC on 31 December 2028 is 1 January 2029 in Shanghai, still the 31st in London.
    late = datetime(2028, 12, 31, 17, 0, tzinfo=UTC)
    assert _on(yearly, "today", late) == ["biennial-fair"]
    assert _on_in(yearly, "today", late, "Europe/London") == [
        "new-years-eve-concert",
        "svc-mandarin",
    ]
    # schema.org P1Y with byMonth / byMonthDay: 21 March, every year.
    assert _on(yearly, "mañana", date(2028, 3, 20)) == ["spring-fair"]
    assert _on(yearly, "mañana", date(2028, 4, 20)) == []


def test_yearly_series_come_by_their_next_date(yearly):
    now = datetime(2027, 11, 1, tzinfo=UTC)
    assert [result.item.id for result in still_to_come(yearly, now, ZONE)] == [
        "winter-market",  # 4 December 2027
        "svc-mandarin",  # 31 December 2027 18:30
        "new-years-eve-concert",  # 31 December 2027 20:00
        "spring-fair",  # 21 March 2028
        "summer-saturdays",  # 1 July 2028
        "harvest-walk",  # 1 October 2028
        "biennial-fair",  # 1 January 2029
    ]


def test_a_yearly_rule_it_cannot_read_is_rejected_naming_it(tmp_path: Path):
    (tmp_path / "bad.ics").write_text(
        YEARLY_CALENDAR.replace("BYMONTH=12;BYDAY=1SA", "BYDAY=1SA")  # 1st Saturday of a year
    )
    (tmp_path / "bad.csv").write_text(YEARLY_CSV.replace(",10,", ",13,"))
    rejected = [
        (r.file, r.position, r.field, r.value) for f in read_catalog(tmp_path) for r in f.rejected
    ]
    assert rejected == [
        ("bad.csv", "row 2", "months", "13"),
        ("bad.ics", "VEVENT UID winter-market", "RRULE", "1SA"),
    ]
