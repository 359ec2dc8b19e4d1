"""The catalog on a real database (SQLite file, and PostgreSQL when it answers): import, re-import, prune."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

import knowledge
from core.database import make_engine, session_scope, upgrade_database
from core.settings import REPOSITORY_ROOT
from knowledge.importers import read_file

DATA = Path(__file__).parent / "data"
SAMPLE_CITY = REPOSITORY_ROOT / "knowledge" / "sample_city"
HEADER = "id,type,name,description,topics,latitude,longitude,days,start_time,end_time\n"


@pytest.fixture
def url(database_url: str) -> str:
    upgrade_database(database_url)
    return database_url


def _import(url: str, path: Path, **options) -> knowledge.ImportSummary:  # type: ignore[no-untyped-def]
    with session_scope(url) as session:
        return knowledge.import_catalog(path, session=session, **options)


def _write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_migration_creates_catalog_and_unmet_demand_tables(url: str) -> None:
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"catalog_items", "unmet_demand"} <= tables


def test_stored_items_read_back_equal_to_what_the_importer_produced(url: str) -> None:
    summary = _import(url, DATA / "catalog.jsonld")
    assert (summary.added, summary.updated, summary.unchanged, len(summary.rejected)) == (
        3,
        0,
        0,
        4,
    )
    expected = {item.id: item for item in read_file(DATA / "catalog.jsonld").items}
    with session_scope(url) as session:
        stored = knowledge.all_items(session)
        one = knowledge.get_item(session, "https://example.org/courses/python")
        missing = knowledge.get_item(session, "no-such-id")
        ordered = knowledge.items_by_ids(
            session,
            ["https://example.org/events/festival", "nope", "https://example.org/places/hub"],
        )
        courses = knowledge.count_items(session, "course")
        total = knowledge.count_items(session)
    assert {item.id: item for item in stored} == expected
    assert [i.extra for i in stored] == [
        expected[i.id].extra for i in stored
    ]  # extra is not compared by ==
    assert one == expected["https://example.org/courses/python"] and missing is None
    assert [item.id for item in ordered] == [
        "https://example.org/events/festival",
        "https://example.org/places/hub",
    ]
    assert (courses, total) == (1, 3)


def test_reimporting_the_same_files_counts_unchanged_and_never_duplicates(url: str) -> None:
    first = _import(url, DATA)
    second = _import(url, DATA)
    assert first.added == 12 and first.unchanged == 0
    assert (second.added, second.updated, second.unchanged, second.removed) == (0, 0, 12, 0)
    assert str(second) == "4 files: 0 added, 0 updated, 12 unchanged, 0 removed, 14 rejected"
    with session_scope(url) as session:
        assert knowledge.count_items(session) == 12


def test_reimporting_a_changed_file_updates_in_place(url: str, tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "offer.csv",
        ["a,course,Pottery,,pottery,31.2,121.4,sat,09:00,11:00", "b,course,Calligraphy,,书法,,,,,"],
    )
    _import(url, path)
    _write_csv(
        path,
        ["a,course,Pottery,,pottery,31.2,121.4,sun,10:00,12:00", "b,course,Calligraphy,,书法,,,,,"],
    )
    summary = _import(url, path)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 1)
    with session_scope(url) as session:
        pottery = knowledge.get_item(session, "a")
        assert knowledge.count_items(session) == 2
    assert pottery is not None and pottery.sessions[0].schedule_text == "Sun 10:00-12:00"


def test_prune_removes_only_unlisted_items_of_the_same_source(url: str, tmp_path: Path) -> None:
    offer = _write_csv(tmp_path / "offer.csv", ["a,course,A,,,,,,,", "b,course,B,,,,,,,"])
    other = _write_csv(tmp_path / "other.csv", ["z,course,Z,,,,,,,"])
    _import(url, offer)
    _import(url, other)
    _write_csv(offer, ["a,course,A,,,,,,,"])
    without_prune = _import(url, offer)
    assert without_prune.removed == 0
    pruned = _import(url, offer, prune=True)
    assert (pruned.removed, pruned.unchanged) == (1, 1)
    with session_scope(url) as session:
        assert sorted(item.id for item in knowledge.all_items(session)) == ["a", "z"]


def test_prune_keeps_items_whose_row_is_now_malformed(url: str, tmp_path: Path) -> None:
    offer = _write_csv(tmp_path / "offer.csv", ["a,course,A,,,31.2,121.4,,,", "b,course,B,,,,,,,"])
    _import(url, offer)
    _write_csv(offer, ["a,course,A,,,abc,121.4,,,", "b,course,B,,,,,,,"])
    summary = _import(url, offer, prune=True)
    assert [str(r) for r in summary.rejected] == [
        'offer.csv row 2, field latitude: "abc" is not a number'
    ]
    assert summary.removed == 0  # the row is still listed; the stored version stays until fixed
    with session_scope(url) as session:
        kept = knowledge.get_item(session, "a")
    assert kept is not None and kept.latitude == 31.2


def test_prune_leaves_a_source_alone_when_its_file_cannot_be_read(url: str, tmp_path: Path) -> None:
    path = tmp_path / "offer.jsonld"
    path.write_text('[{"@type": "Course", "@id": "c1", "name": "A"}]', encoding="utf-8")
    _import(url, path)
    path.write_text('[{"@type": "Course", "@id": "c1", "name": "A"', encoding="utf-8")
    summary = _import(url, path, prune=True)
    assert summary.removed == 0 and len(summary.rejected) == 1
    with session_scope(url) as session:
        assert knowledge.count_items(session) == 1


def test_an_id_listed_by_two_files_is_rejected_in_the_second(url: str, tmp_path: Path) -> None:
    _write_csv(tmp_path / "a.csv", ["same,course,First,,,,,,,"])
    _write_csv(tmp_path / "b.csv", ["same,course,Second,,,,,,,"])
    summary = _import(url, tmp_path)
    folder = tmp_path.name
    assert [str(r) for r in summary.rejected] == [
        f'b.csv row 2, field id: duplicate id "same" (already in {folder}/a.csv)'
    ]
    with session_scope(url) as session:
        item = knowledge.get_item(session, "same")
    assert item is not None and item.name == "First"


def test_progress_reports_done_out_of_total(url: str, tmp_path: Path) -> None:
    rows = [f"id{n},course,Course {n},,,,,,," for n in range(1203)]
    path = _write_csv(tmp_path / "many.csv", rows)
    calls: list[tuple[int, int]] = []
    summary = _import(url, path, progress=lambda done, total: calls.append((done, total)))
    assert summary.added == 1203
    assert calls == [(0, 1203), (500, 1203), (1000, 1203), (1203, 1203)]


def test_sample_city_imports_with_no_rejections_and_reimports_unchanged(url: str) -> None:
    started = time.perf_counter()
    first = _import(url, SAMPLE_CITY)
    seconds = time.perf_counter() - started
    print(f"\nsample city import: {first} in {seconds:.2f}s")
    assert first.rejected == []
    with session_scope(url) as session:
        counts = {
            kind: knowledge.count_items(session, kind) for kind in ("course", "space", "event")
        }
        fingerprint = knowledge.catalog_fingerprint(session)
    assert counts["course"] >= 60 and counts["space"] >= 12 and counts["event"] >= 5
    again = _import(url, SAMPLE_CITY, prune=True)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == sum(counts.values())
    with session_scope(url) as session:
        assert knowledge.catalog_fingerprint(session) == fingerprint


def test_unmet_demand_is_counted_per_search_and_per_citizen(url: str) -> None:
    with session_scope(url) as session:
        knowledge.record_unmet_demand(
            session, "Sign language  for kids", "en", {"audience": "children"}, "Nanhu"
        )
        knowledge.record_unmet_demand(session, "sign language for kids", "en", {}, "Nanhu", "web:a")
        knowledge.record_unmet_demand(
            session, "周末陶艺课", "zh", {"schedule": "weekend", "price": None}, None, "web:a"
        )
    with session_scope(url) as session:
        summary = knowledge.unmet_demand_summary(session)
        by_citizens = knowledge.unmet_demand_summary(session, citizens=True)
        columns = {c["name"] for c in inspect(session.connection()).get_columns("unmet_demand")}
        stored_filters = (
            session.execute(text("SELECT filters FROM unmet_demand ORDER BY id")).scalars().all()
        )
    assert summary == {
        "total": 3,
        "by_query": {"sign language for kids": 2, "周末陶艺课": 1},
        "by_language": {"en": 2, "zh": 1},
        "by_district": {"Nanhu": 2, "unknown": 1},
        "by_filter": {"audience: children": 1, "schedule: weekend": 1},
        "queries": [["sign language for kids", "en", 2], ["周末陶艺课", "zh", 1]],
        "by_week": {"{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2]): 3},
    }
    # The first search has no sender (recorded before senders were kept): one citizen apart.
    assert by_citizens == {
        "total": 2,
        "by_query": {"sign language for kids": 2, "周末陶艺课": 1},
        "by_language": {"en": 2, "zh": 1},
        "by_district": {"Nanhu": 2, "unknown": 1},
        "by_filter": {"audience: children": 1, "schedule: weekend": 1},
        "queries": [["sign language for kids", "en", 2], ["周末陶艺课", "zh", 1]],
        "by_week": {"{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2]): 2},
    }
    assert columns == {"id", "query", "language", "filters", "district", "created_at", "sender_id"}
    assert len(stored_filters) == 3
