"""Every bad field of every row in one round, links only to web pages, and dry runs that change
nothing: each importer (CSV, HSDS, JSON-LD, iCalendar) read from real files."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import knowledge
from core.database import session_scope, upgrade_database
from knowledge.catalog import content_hash
from knowledge.documents import CatalogItem
from knowledge.importers import ParsedFile, read_catalog, read_file
from tests.knowledge.import_support import catalog_with_two_courses, hsds_package


def _problems(parsed: ParsedFile) -> list[tuple[str, str, str, str | None]]:
    return [(r.file, r.position, r.field, r.value) for r in parsed.rejected]


def test_a_csv_row_with_four_bad_fields_reports_all_four_at_once(tmp_path: Path) -> None:
    path = tmp_path / "offer.csv"
    path.write_text(
        "id,type,name,free,latitude,days,start_time\n"
        "bad,course,Pottery,maybe,abc,funday,25:00\n"
        "good,course,Knitting,yes,31.2,sat,10:00\n",
        encoding="utf-8",
    )
    parsed = read_file(path)
    assert [r.explained() for r in parsed.rejected] == [
        'offer.csv row 2, field free: "maybe" is not true or false '
        "(expected true or false, yes or no, 1 or 0)",
        'offer.csv row 2, field latitude: "abc" is not a number (expected a number from -90 to 90)',
        'offer.csv row 2, field days: "funday" is not a day of the week '
        "(expected days of the week: Mo, Monday, 周一, …)",
        'offer.csv row 2, field start_time: "25:00" is not a time (HH:MM)',
    ]
    assert [r.value for r in parsed.rejected] == ["maybe", "abc", "funday", "25:00"]
    assert [item.id for item in parsed.items] == ["good"]
    assert "bad" in parsed.listed_ids  # a rejected row keeps its stored version on --prune


def test_every_bad_day_of_a_list_is_named(tmp_path: Path) -> None:
    path = tmp_path / "offer.csv"
    path.write_text("id,type,name,days\nx,course,X,mo|funday|tu|noday\n", encoding="utf-8")
    [rejection] = read_file(path).rejected
    assert rejection.message == '"funday", "noday" are not days of the week'


def test_a_wrong_csv_header_names_every_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("ident,kind,name\nx,course,X\n", encoding="utf-8")
    parsed = read_file(path)
    assert _problems(parsed) == [
        ("wrong.csv", "row 1", "id", None),
        ("wrong.csv", "row 1", "type", None),
    ]
    assert parsed.rejected[0].expected == "a header with the columns id, type, name"
    assert parsed.readable is False and parsed.items == []


def test_a_jsonld_object_reports_every_bad_field(tmp_path: Path) -> None:
    course = {
        "@type": "Course",
        "@id": "https://example.org/courses/bad",
        "url": "javascript:alert(document.cookie)",
        "hasCourseInstance": {
            "@type": "CourseInstance",
            "courseSchedule": {"@type": "Schedule", "byDay": "Funday", "startTime": "7pm"},
            "location": {
                "@type": "Place",
                "name": "Hub",
                "geo": {"@type": "GeoCoordinates", "latitude": "north", "longitude": 500},
            },
        },
    }
    path = tmp_path / "courses.jsonld"
    path.write_text(json.dumps({"@graph": [course]}), encoding="utf-8")
    parsed = read_file(path)
    assert _problems(parsed) == [
        ("courses.jsonld", "item 1 (line 1)", "name", ""),
        ("courses.jsonld", "item 1 (line 1)", "byDay", "Funday"),
        ("courses.jsonld", "item 1 (line 1)", "startTime", "7pm"),
        ("courses.jsonld", "item 1 (line 1)", "latitude", "north"),
        ("courses.jsonld", "item 1 (line 1)", "longitude", "500"),
        ("courses.jsonld", "item 1 (line 1)", "url", "javascript:alert(document.cookie)"),
    ]
    assert parsed.items == []


def test_an_ical_event_reports_every_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "events.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:bad@example.org\r\nDTSTART:20261201T190000\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=FU\r\nGEO:abc;def\r\nURL:data:text/html,<script>x</script>\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:good@example.org\r\nSUMMARY:Open day\r\nDTSTART:20261201T190000\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    parsed = read_file(path)
    assert _problems(parsed) == [
        ("events.ics", "VEVENT UID bad@example.org", "RRULE", "FREQ=WEEKLY;BYDAY=FU"),
        ("events.ics", "VEVENT UID bad@example.org", "GEO", "abc;def"),
        ("events.ics", "VEVENT UID bad@example.org", "SUMMARY", ""),
        ("events.ics", "VEVENT UID bad@example.org", "URL", "data:text/html,<script>x</script>"),
    ]
    assert [item.id for item in parsed.items] == ["good@example.org"]


def test_an_hsds_service_reports_every_bad_field_in_every_file(tmp_path: Path) -> None:
    package = hsds_package(
        tmp_path,
        ("services.csv", "https://adult.example.org/mandarin", "javascript:alert(1)"),
        ("schedules.csv", "18:30,20:00", "half past six,8pm"),
    )
    [parsed] = read_catalog(package)
    problems = _problems(parsed)
    assert problems[:3] == [
        ("services.csv", "row 2", "url", "javascript:alert(1)"),
        ("schedules.csv", "row 2", "opens_at", "half past six"),
        ("schedules.csv", "row 2", "closes_at", "8pm"),
    ]
    # What the shared test package already had wrong is still reported, once each.
    assert ("locations.csv", "row 4", "longitude", "east") in problems
    assert ("services.csv", "row 4", "name", "") in problems
    assert len(problems) == len(set(problems))
    assert "svc-mandarin" not in {item.id for item in parsed.items}


def test_hsds_missing_header_columns_are_all_named_and_nothing_imports(tmp_path: Path) -> None:
    package = hsds_package(
        tmp_path,
        (
            "services.csv",
            "id,organization_id,program_id,name,",
            "ident,organization_id,program_id,title,",
        ),
        ("service_at_location.csv", "location_id", "place_id"),
    )
    [parsed] = read_catalog(package)
    assert _problems(parsed) == [
        ("services.csv", "row 1", "id", None),
        ("services.csv", "row 1", "name", None),
        ("service_at_location.csv", "row 1", "location_id", None),
    ]
    assert parsed.items == [] and parsed.readable is False


# One writer per importer: a catalog file whose only item links to `url`.
def _csv(folder: Path, url: str) -> Path:
    path = folder / "offer.csv"
    path.write_text(f"id,type,name,url\nx,course,Pottery,{_cell(url)}\n", encoding="utf-8")
    return path


def _jsonld(folder: Path, url: str) -> Path:
    path = folder / "offer.jsonld"
    node = {"@type": "Course", "@id": "https://example.org/x", "name": "Pottery", "url": url}
    path.write_text(json.dumps(node), encoding="utf-8")
    return path


def _ical(folder: Path, url: str) -> Path:
    path = folder / "offer.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        f"SUMMARY:Pottery\r\nDTSTART:20261201T190000\r\nURL:{url}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    return path


def _hsds(folder: Path, url: str) -> Path:
    return hsds_package(folder, ("services.csv", "https://adult.example.org/mandarin", _cell(url)))


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'  # a CSV cell that may hold commas


IMPORTERS: dict[str, tuple[Callable[[Path, str], Path], str, str]] = {
    # name: (writer, the item's id, the link field's name in that format)
    "csv": (_csv, "x", "url"),
    "jsonld": (_jsonld, "https://example.org/x", "url"),
    "ical": (_ical, "x", "URL"),
    "hsds": (_hsds, "svc-mandarin", "url"),
}
BAD_LINKS = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "www.example.org/no-scheme",
]


@pytest.mark.parametrize("importer", sorted(IMPORTERS))
@pytest.mark.parametrize("link", BAD_LINKS)
def test_links_that_are_not_web_addresses_are_rejected_naming_the_field(
    importer: str, link: str, tmp_path: Path
) -> None:
    write, item_id, field_name = IMPORTERS[importer]
    [parsed] = read_catalog(write(tmp_path, link))
    assert [(r.field, r.value) for r in parsed.rejected if r.field == field_name] == [
        (field_name, link)
    ]
    assert [r.expected for r in parsed.rejected if r.field == field_name] == [
        "an http:// or https:// address"
    ]
    assert item_id not in {item.id for item in parsed.items}


@pytest.mark.parametrize("importer", sorted(IMPORTERS))
def test_web_addresses_are_kept(importer: str, tmp_path: Path) -> None:
    write, item_id, _field = IMPORTERS[importer]
    [parsed] = read_catalog(write(tmp_path, "https://example.org/pottery?day=sat"))
    items = {item.id: item for item in parsed.items}
    assert items[item_id].url == "https://example.org/pottery?day=sat"


def test_a_dry_run_checks_everything_and_changes_nothing(tmp_path: Path) -> None:
    url, path, before = catalog_with_two_courses(tmp_path)
    path.write_text(
        "id,type,name,latitude\na,course,Pottery (new name),31.2\nc,course,Weaving,north\n",
        encoding="utf-8",
    )
    checked = knowledge.import_catalog(path, session=None, dry_run=True, prune=True)
    assert (checked.dry_run, checked.valid, checked.rejected_rows) == (True, 1, 1)
    assert [str(r) for r in checked.rejected] == [
        'offer.csv row 3, field latitude: "north" is not a number'
    ]
    assert str(checked) == "dry run, nothing changed: 1 file: 1 valid, 1 rejected"
    with session_scope(url) as session:
        assert knowledge.content_hashes(session) == before
        assert knowledge.get_item(session, "a").name == "Pottery"


def test_an_import_keeps_valid_rows_and_lists_every_rejection_as_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_database(url)
    path = tmp_path / "offer.csv"
    path.write_text(
        "id,type,name,free,url\n"
        "a,course,Pottery,yes,https://example.org/a\n"
        "b,course,Knitting,maybe,javascript:alert(1)\n",
        encoding="utf-8",
    )
    with session_scope(url) as session:
        summary = knowledge.import_catalog(path, session=session)
    assert (summary.added, summary.valid, summary.rejected_rows, summary.complete) == (
        1,
        1,
        1,
        False,
    )
    as_json = json.loads(json.dumps(summary.as_dict()))
    assert [(r["position"], r["field"], r["value"]) for r in as_json["rejected"]] == [
        ("row 3", "free", "maybe"),
        ("row 3", "url", "javascript:alert(1)"),
    ]
    assert str(summary) == (
        "1 file: 1 added, 0 updated, 0 unchanged, 0 removed, 1 rejected (2 bad fields)"
    )
    with session_scope(url) as session:
        assert [item.id for item in knowledge.all_items(session)] == ["a"]


def test_a_script_link_stored_before_the_importers_refused_it_never_leaves_the_catalog(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_database(url)
    stored = [
        CatalogItem(id="old", type="course", name="Pottery", url="javascript:alert(1)"),
        CatalogItem(id="web", type="course", name="Knitting", url="https://example.org/knit"),
    ]
    with session_scope(url) as session:
        knowledge.upsert_items(session, stored, "old/import.csv")
    with session_scope(url) as session:
        assert [(item.id, item.url) for item in knowledge.all_items(session)] == [
            ("old", ""),
            ("web", "https://example.org/knit"),
        ]
        assert knowledge.get_item(session, "old").url == ""
        # A search index built while the link was served sees the item as changed and takes
        # it again (through items_by_ids, without the link); the other item stays as it is.
        hashes = knowledge.content_hashes(session)
        served = {item.id: content_hash(replace(item, source="old/import.csv")) for item in stored}
        assert (hashes["old"] != served["old"], hashes["web"] == served["web"]) == (True, True)
        assert [item.url for item in knowledge.items_by_ids(session, ["old"])] == [""]


def test_an_hsds_organization_link_used_for_a_service_is_checked_in_its_own_file(
    tmp_path: Path,
) -> None:
    package = hsds_package(
        tmp_path, ("organizations.csv", "https://adult.example.org,", "javascript:alert(1),")
    )
    [parsed] = read_catalog(package)
    # svc-first-aid has no url of its own, so it would link to its organization's.
    assert ("organizations.csv", "row 2", "url", "javascript:alert(1)") in _problems(parsed)
    ids = {item.id for item in parsed.items}
    assert "svc-mandarin" in ids  # links to its own page
    assert not any(item_id.startswith("svc-first-aid") for item_id in ids)


def test_a_jsonld_rejection_names_the_line_its_object_starts_on(tmp_path: Path) -> None:
    graph = [
        {"@type": "Course", "@id": "a", "name": "Pottery"},
        [],  # not an object: rejected too
        {"@type": "Course", "@id": "c", "name": "Weaving", "url": "data:,x"},
    ]
    listed = tmp_path / "list.jsonld"
    listed.write_text(json.dumps(graph, indent=2), encoding="utf-8")
    wrapped = tmp_path / "graph.jsonld"
    wrapped.write_text(json.dumps({"@context": "x", "@graph": graph}, indent=1), encoding="utf-8")
    lines = {
        path.name: [(r.position, r.field) for r in read_file(path).rejected]
        for path in (listed, wrapped)
    }
    assert lines == {
        "list.jsonld": [("item 2 (line 7)", "(item)"), ("item 3 (line 8)", "url")],
        "graph.jsonld": [("item 2 (line 9)", "(item)"), ("item 3 (line 10)", "url")],
    }
