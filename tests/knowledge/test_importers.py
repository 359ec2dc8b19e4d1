"""Each catalog format read from real-shaped files: fields mapped, malformed rows rejected by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.settings import REPOSITORY_ROOT
from knowledge.documents import Session
from knowledge.importers import read_catalog, read_file

DATA = Path(__file__).parent / "data"
SAMPLE_CITY = REPOSITORY_ROOT / "knowledge" / "sample_city"


def _by_id(parsed) -> dict:  # type: ignore[no-untyped-def]
    return {item.id: item for item in parsed.items}


def test_jsonld_course_takes_schedules_place_price_languages_and_audiences() -> None:
    parsed = read_file(DATA / "catalog.jsonld")
    course = _by_id(parsed)["https://example.org/courses/python"]
    assert course.type == "course"
    assert course.name == "Python 编程入门 / Python for Beginners"
    assert course.topics == ("python", "programming", "编程", "coding")
    assert course.languages == ("zh", "en")
    assert course.audiences == ("unemployed", "youth")
    assert course.free is True and course.price == "0 CNY"
    assert course.place_name == "Dongcheng Digital Skills Hub"  # location given as an @id reference
    assert course.district == "Dongcheng"
    assert (course.latitude, course.longitude) == (31.2287, 121.5311)
    assert course.sessions == (
        Session(
            "Tue, Thu 19:00-21:00",
            ("tuesday", "thursday"),
            "19:00",
            "21:00",
            "2026-09-07",
            "2027-01-22",
        ),
        Session("周六上午 Saturday mornings", ("saturday",), "10:00", "12:00", None, None),
    )
    assert course.organizer == "Dongcheng Digital Skills Hub"
    assert course.extra["educational_level"] == "beginner"
    assert course.source == "data/catalog.jsonld"


def test_jsonld_space_reads_opening_hours_amenities_and_accessibility() -> None:
    space = _by_id(read_file(DATA / "catalog.jsonld"))["https://example.org/places/hub"]
    assert space.type == "space"
    assert space.opening_hours == "Mon-Fri 09:00-20:00; Sat 10:00-16:00"
    assert space.amenities == ("Wi-Fi",)  # "Parking" has value false
    assert space.accessibility == ("wheelchair",)
    assert space.free is True


def test_jsonld_event_subtype_becomes_an_event_with_dates() -> None:
    event = _by_id(read_file(DATA / "catalog.jsonld"))["https://example.org/events/festival"]
    assert event.type == "event"
    assert event.start == "2027-04-24T09:30:00+08:00"
    assert event.end == "2027-04-24T17:00:00+08:00"
    assert event.district == "Jiangbin"  # from the address text "..., Jiangbin District"
    assert event.organizer == "Hailin Learning City Office"


def test_jsonld_malformed_objects_are_rejected_and_the_rest_imports() -> None:
    parsed = read_file(DATA / "catalog.jsonld")
    assert [str(rejection) for rejection in parsed.rejected] == [
        "catalog.jsonld item 4 (line 59), field name: missing",
        'catalog.jsonld item 5 (line 64), field latitude: "north" is not a number',
        'catalog.jsonld item 6 (line 70), field @type: unknown type "Recipe" (expected Course, Event or a Place)',
        "catalog.jsonld item 7 (line 75), field startDate: missing (an event needs a start)",
    ]
    assert len(parsed.items) == 3


def test_jsonld_single_object_and_top_level_list_are_read(tmp_path: Path) -> None:
    single = tmp_path / "one.jsonld"
    single.write_text(
        '{"@context": "https://schema.org", "@type": "Course", "@id": "c1", "name": "书法入门"}',
        encoding="utf-8",
    )
    listed = tmp_path / "list.json"
    listed.write_text(
        '[{"@type": "Course", "@id": "c2", "name": "A"}, {"@type": "Library", "@id": "s1", "name": "B"}]',
        encoding="utf-8",
    )
    assert [item.id for item in read_file(single).items] == ["c1"]
    assert [(item.id, item.type) for item in read_file(listed).items] == [
        ("c2", "course"),
        ("s1", "space"),
    ]


def test_jsonld_graph_nodes_that_describe_a_course_are_read_through_it_not_rejected(
    tmp_path: Path,
) -> None:
    graph = tmp_path / "flat.jsonld"
    graph.write_text(
        """{"@context": "https://schema.org", "@graph": [
  {"@id": "org", "@type": "Organization", "name": "Adult Education Service"},
  {"@id": "lib", "@type": "Library", "name": "Riverside Library",
   "geo": {"@type": "GeoCoordinates", "latitude": 51.5, "longitude": -0.12}},
  {"@id": "ci", "@type": "CourseInstance", "location": {"@id": "lib"},
   "courseSchedule": {"@type": "Schedule", "byDay": "https://schema.org/Saturday",
                      "startTime": "10:00", "endTime": "12:00"},
   "offers": {"@id": "offer"}},
  {"@id": "offer", "@type": "Offer", "price": 0},
  {"@id": "note", "@type": "Comment", "text": "referenced by the course", "name": "n"},
  {"@id": "watercolour", "@type": "Course", "name": "Watercolour painting",
   "provider": {"@id": "org"}, "hasCourseInstance": {"@id": "ci"}, "comment": {"@id": "note"}},
  {"@id": "stray", "@type": "Recipe", "name": "Dumplings"}
]}""",
        encoding="utf-8",
    )
    parsed = read_file(graph)
    assert [str(r) for r in parsed.rejected] == [
        'flat.jsonld item 7 (line 13), field @type: unknown type "Recipe" (expected Course, Event or a Place)'
    ]
    course = _by_id(parsed)["watercolour"]
    assert sorted(_by_id(parsed)) == ["lib", "watercolour"]
    assert course.place_name == "Riverside Library"
    assert (course.latitude, course.longitude) == (51.5, -0.12)
    assert course.free is True
    assert course.sessions[0].days == ("saturday",)
    assert course.organizer == "Adult Education Service"


def test_invalid_json_is_rejected_with_its_line_and_nothing_else_happens(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonld"
    broken.write_text('{\n  "@graph": [\n    {"name": "x",}\n  ]\n}\n', encoding="utf-8")
    parsed = read_file(broken)
    assert [str(r) for r in parsed.rejected] == [
        "broken.jsonld line 3, field (json): not valid JSON: Expecting property name enclosed in double quotes"
    ]
    assert parsed.items == [] and parsed.readable is False


def test_plain_csv_rows_become_items_with_lists_split_on_bars() -> None:
    items = _by_id(read_file(DATA / "courses.csv"))
    pottery = items["csv-pottery"]
    assert pottery.free is False and pottery.price == "120 CNY"
    assert pottery.district == "Nanhu"  # "南湖区" in the district column
    assert pottery.topics == ("pottery", "陶艺")
    assert pottery.sessions == (
        Session("Sat 09:30-12:00", ("saturday",), "09:30", "12:00", "2026-09-05", "2027-01-16"),
    )
    assert pottery.extra == {"contact": "pottery@example.org"}  # unknown columns are kept
    assert items["csv-english"].audiences == ("adults", "migrants")  # "newcomers" -> migrants
    assert items["csv-library"].amenities == ("Wi-Fi", "study room")
    assert items["csv-library"].district == "Xicheng"
    assert items["csv-fair"].start == "2026-12-12T10:00:00+08:00"


def test_plain_csv_malformed_rows_are_rejected_with_row_and_field() -> None:
    parsed = read_file(DATA / "courses.csv")
    assert [str(rejection) for rejection in parsed.rejected] == [
        "courses.csv row 6, field name: missing",
        'courses.csv row 7, field latitude: "abc" is not a number',
        'courses.csv row 8, field type: unknown type "workshop" (expected course, space or event)',
        'courses.csv row 9, field start: "next friday" is not a date or date-time (ISO 8601)',
        'courses.csv row 10, field days: "someday" is not a day of the week',
    ]
    assert [item.id for item in parsed.items] == [
        "csv-pottery",
        "csv-english",
        "csv-library",
        "csv-fair",
    ]


def test_plain_csv_without_required_columns_is_refused_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("label,when\nPottery,Saturday\n", encoding="utf-8")
    parsed = read_file(path)
    assert [str(r) for r in parsed.rejected] == [  # every missing column, not only the first
        "wrong.csv row 1, field id: column missing from the header",
        "wrong.csv row 1, field type: column missing from the header",
        "wrong.csv row 1, field name: column missing from the header",
    ]
    assert parsed.readable is False


def test_ical_events_read_rrule_geo_categories_and_location() -> None:
    items = _by_id(read_file(DATA / "events.ics"))
    tai_chi = items["weekly-tai-chi@example.org"]
    assert tai_chi.type == "event"
    assert tai_chi.name == "太极拳公园课"
    assert tai_chi.languages == ("zh",)  # SUMMARY;LANGUAGE=zh
    assert tai_chi.topics == ("tai chi", "exercise", "health")
    assert (tai_chi.latitude, tai_chi.longitude) == (31.1712, 121.4768)
    assert tai_chi.place_name == "南湖公园" and tai_chi.district == "Nanhu"
    assert tai_chi.sessions == (
        Session(
            "Tue, Thu 07:00-08:00",
            ("tuesday", "thursday"),
            "07:00",
            "08:00",
            "2026-12-01",
            "2027-03-31",
        ),
    )
    assert tai_chi.start == "2026-12-01T07:00:00+08:00"
    assert tai_chi.organizer == "Nanhu Community Centre"
    assert tai_chi.free is True and tai_chi.audiences == ("seniors",)
    open_day = items["open-day@example.org"]
    assert (open_day.start, open_day.end) == ("2026-12-12", "2026-12-13")  # all-day, DURATION P1D


def test_ical_malformed_events_are_rejected_by_uid() -> None:
    parsed = read_file(DATA / "events.ics")
    assert [str(rejection) for rejection in parsed.rejected] == [
        "events.ics VEVENT UID no-summary@example.org, field SUMMARY: missing",
        'events.ics VEVENT UID bad-start@example.org, field DTSTART: "2026-13-45" is not a date or date-time',
        "events.ics VEVENT 5, field UID: missing",
    ]
    assert len(parsed.items) == 2


def test_hsds_package_yields_one_course_per_service_at_location() -> None:
    [parsed] = read_catalog(DATA / "hsds")
    items = _by_id(parsed)
    # One location keeps the service id; several locations get "<service>@<location>".
    assert sorted(items) == [
        "svc-first-aid@loc-beishan",
        "svc-first-aid@loc-xingang",
        "svc-mandarin",
    ]
    mandarin = items["svc-mandarin"]
    assert mandarin.type == "course"
    assert mandarin.organizer == "Hailin Adult Education Office"
    assert mandarin.languages == ("zh", "en")
    assert mandarin.audiences == ("migrants",)
    assert mandarin.topics == ("language learning", "mandarin")
    assert mandarin.free is True
    assert mandarin.district == "Xingang"
    assert mandarin.sessions == (
        Session(
            "Mon, Wed 18:30-20:00",
            ("monday", "wednesday"),
            "18:30",
            "20:00",
            "2026-09-07",
            "2027-01-22",
        ),
    )
    beishan = items["svc-first-aid@loc-beishan"]
    assert beishan.district == "Beishan" and beishan.price == "80 CNY" and beishan.free is False
    assert beishan.sessions[0].schedule_text == "Sunday mornings"
    assert items["svc-first-aid@loc-xingang"].sessions[0].days == ("saturday",)


def test_hsds_malformed_rows_are_rejected_naming_their_own_file() -> None:
    [parsed] = read_catalog(DATA / "hsds")
    assert [str(rejection) for rejection in parsed.rejected] == [
        "services.csv row 4, field name: missing",
        'locations.csv row 4, field longitude: "east" is not a number',
    ]


def test_a_folder_imports_every_catalog_file_and_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    (tmp_path / "a.csv").write_text("id,type,name\nx1,course,Knitting\n", encoding="utf-8")
    (tmp_path / "b.ics").write_bytes((DATA / "events.ics").read_bytes())
    parsed = read_catalog(tmp_path)
    assert [p.source.split("/")[-1] for p in parsed] == ["a.csv", "b.ics"]


def test_unknown_format_is_a_rejection_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some words", encoding="utf-8")
    [parsed] = read_catalog(path)
    assert [str(r) for r in parsed.rejected] == [
        "notes.txt file, field (file): is not a known catalog format "
        "(expected .jsonld, .json, .ics, .csv, .xlsx or an HSDS folder)"
    ]


@pytest.fixture(scope="module")
def sample_city_items() -> list:
    parsed = read_catalog(SAMPLE_CITY)
    assert [str(r) for p in parsed for r in p.rejected] == []
    return [item for p in parsed for item in p.items]


def test_sample_city_has_enough_courses_spaces_and_events_in_every_district(
    sample_city_items: list,
) -> None:
    by_type = {
        kind: [i for i in sample_city_items if i.type == kind]
        for kind in ("course", "space", "event")
    }
    assert len(by_type["course"]) >= 60
    assert len(by_type["space"]) >= 12
    assert len(by_type["event"]) >= 5
    districts = {"Dongcheng", "Xicheng", "Nanhu", "Beishan", "Jiangbin", "Xingang"}
    assert {i.district for i in sample_city_items} == districts
    for kind in ("course", "space"):
        assert {i.district for i in by_type[kind]} == districts, kind


def test_sample_city_is_bilingual_located_and_scheduled(sample_city_items: list) -> None:
    def has_han(value: str) -> bool:
        return any("\u4e00" <= char <= "\u9fff" for char in value)

    courses = [i for i in sample_city_items if i.type == "course"]
    chinese_only = [
        c
        for c in courses
        if has_han(c.name) and not any(ch.isascii() and ch.isalpha() for ch in c.name)
    ]
    english_only = [c for c in courses if not has_han(c.name + c.description)]
    assert len(chinese_only) >= 10 and len(english_only) >= 10
    assert all(c.latitude and c.longitude and c.sessions for c in courses)
    assert all(30.9 < i.latitude < 31.5 and 121.3 < i.longitude < 121.7 for i in sample_city_items)
    assert {
        "seniors",
        "children",
        "parents",
        "migrants",
        "unemployed",
        "women",
        "youth",
        "disabled",
    } <= {a for c in courses for a in c.audiences}
    assert any(c.free for c in courses) and any(c.free is False for c in courses)
    days = {d for c in courses for s in c.sessions for d in s.days}
    assert {"saturday", "sunday", "monday"} <= days
    assert any(s.start_time >= "18:00" for c in courses for s in c.sessions)


def test_out_of_range_coordinates_and_bad_times_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "offer.csv"
    path.write_text(
        "id,type,name,latitude,longitude,start_time\n"
        "a,course,A,95,121.4,\n"
        "b,course,B,31.2,121.4,25:00\n"
        "c,space,C,31.2,121.4,\n",
        encoding="utf-8",
    )
    parsed = read_file(path)
    assert [str(r) for r in parsed.rejected] == [
        'offer.csv row 2, field latitude: "95" is out of range (-90 to 90)',
        'offer.csv row 3, field start_time: "25:00" is not a time (HH:MM)',
    ]
    assert [item.id for item in parsed.items] == ["c"]


def test_hsds_bad_schedule_rejects_only_the_service_it_belongs_to(tmp_path: Path) -> None:
    package = tmp_path / "hsds"
    shutil.copytree(DATA / "hsds", package)
    schedules = package / "schedules.csv"
    schedules.write_text(
        schedules.read_text(encoding="utf-8").replace("18:30,20:00", "half past six,20:00"),
        encoding="utf-8",
    )
    [parsed] = read_catalog(package)
    assert 'schedules.csv row 2, field opens_at: "half past six" is not a time (HH:MM)' in [
        str(r) for r in parsed.rejected
    ]
    assert sorted(item.id for item in parsed.items) == [
        "svc-first-aid@loc-beishan",
        "svc-first-aid@loc-xingang",
    ]
    assert "svc-mandarin" in parsed.listed_ids  # still listed, so prune keeps the stored version
