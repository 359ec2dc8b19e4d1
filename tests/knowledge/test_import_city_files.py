"""A city's files as it publishes them: its own column names (a column map, or header names in
seven languages), legacy encodings and delimiters as Excel exports them, local dates, times and
decimal commas. Everything goes through the real importer; the real Buenos Aires file
(tests/knowledge/data/buenos_aires, CC BY 2.5 AR) is imported into SQLite and searched with
the real embedding model in other languages."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.settings import REPOSITORY_ROOT
from knowledge.importers import CsvReading, load_column_map, read_file
from knowledge.importers.columns import ColumnMapError
from tests.knowledge.search_support import import_with_column_map

os.environ.setdefault("HF_HUB_OFFLINE", "1")

BUENOS_AIRES = REPOSITORY_ROOT / "tests" / "knowledge" / "data" / "buenos_aires"
LIBRARIES = BUENOS_AIRES / "bibliotecas.csv"
MAP = BUENOS_AIRES / "columns.yml"


def _published_rows() -> list[dict[str, str]]:
    with LIBRARIES.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _as_excel_saves_it(folder: Path, *, delimiter: str, encoding: str, name: str) -> Path:
    """The published file saved again the way a spreadsheet exports it."""
    rows = _published_rows()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    path = folder / name
    path.write_bytes(out.getvalue().encode(encoding))
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The real file imported twice with its column map into a fresh SQLite file."""
    folder = tmp_path_factory.mktemp("buenos-aires")
    (first, again), items = import_with_column_map(folder, LIBRARIES, MAP, times=2)
    return {"first": first, "again": again, "items": items, "folder": folder}


def test_the_published_file_without_a_map_is_refused_naming_the_missing_columns() -> None:
    parsed = read_file(LIBRARIES)
    assert parsed.readable is False and parsed.items == []
    assert [(r.position, r.field) for r in parsed.rejected] == [
        ("row 1", "id"),
        ("row 1", "type"),
        ("row 1", "name"),
    ]


def test_the_published_file_imports_with_its_column_map_and_keeps_its_ids(
    imported: dict[str, Any],
) -> None:
    rows = _published_rows()
    items = {item.name: item for item in imported["items"]}
    first, again = imported["first"], imported["again"]
    assert (first.added, first.rejected_rows) == (len(rows), 0)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(rows))  # same ids
    assert set(items) == {row["fna"] for row in rows}
    for row in rows:
        item = items[row["fna"]]
        assert (item.type, item.address, item.district, item.languages) == (
            "space",
            row["dir"],
            row["bar"],
            ("es",),
        )
        assert item.id.startswith("caba-biblioteca-")
        assert (item.extra["tel"] if row["tel"] else "") == row["tel"]  # unmapped: in extra
    assert len({item.id for item in imported["items"]}) == len(rows)


@pytest.mark.parametrize(
    ("question", "language", "district"),
    [
        ("бібліотека в районі Villa Lugano", "uk", "Villa Lugano"),
        ("bibliothèque pour enfants à Villa Devoto", "fr", "Villa Devoto"),
        ("public library in Palermo", "en", "Palermo"),
    ],
)
def test_a_question_in_another_language_finds_the_imported_libraries(
    imported: dict[str, Any], question: str, language: str, district: str
) -> None:
    from knowledge.search import SearchService

    service = SearchService(Path(imported["folder"]) / f"index-{language}")
    service.build(imported["items"])
    wanted = {item.id for item in imported["items"] if item.district == district}
    found = [r.item.id for r in service.search(question, limit=len(wanted), language=language)]
    assert wanted and set(found) == wanted


@pytest.mark.parametrize(
    ("delimiter", "encoding", "name"),
    [(";", "windows-1252", "bibliotecas-excel-es.csv"), ("\t", "utf-16", "bibliotecas.txt")],
)
def test_the_file_as_excel_exports_it_reads_the_same(
    tmp_path: Path, delimiter: str, encoding: str, name: str
) -> None:
    reading = CsvReading(columns=load_column_map(MAP))
    published = read_file(LIBRARIES, reading)
    exported = read_file(
        _as_excel_saves_it(tmp_path, delimiter=delimiter, encoding=encoding, name=name), reading
    )
    assert exported.rejected == []
    assert [(i.id, i.name, i.address, i.organizer) for i in exported.items] == [
        (i.id, i.name, i.address, i.organizer) for i in published.items
    ]
    assert any("ó" in item.organizer for item in exported.items)  # "Dirección" read right


@pytest.mark.parametrize(
    ("encoding", "header", "row", "name"),
    [
        ("gb18030", "编号,类型,名称,地址", "zh-1,course,太极拳入门,海林市南湖区湖滨路1号", "太极拳入门"),
        ("gbk", "编号,类型,课程名称,地址", "zh-2,course,书法与篆刻,东城区文化路8号", "书法与篆刻"),
        ("windows-1251", "id;тип;название;адрес", "ru-1;course;Курсы русского языка;ул. Мира, 5",
         "Курсы русского языка"),
        ("windows-1251", "id;тип;назва;адреса", "uk-1;space;Бібліотека імені Лесі Українки;вул. Хрещатик, 1",
         "Бібліотека імені Лесі Українки"),
        ("windows-1252", "identifiant;type;titre;adresse", "fr-1;course;Atelier d’écriture;12 rue de la Paix",
         "Atelier d’écriture"),
        ("utf-8-sig", "id,tipo,nombre,dirección", "es-1,course,Taller de cerámica,Calle Mayor 3",
         "Taller de cerámica"),
        ("utf-8", "id,type,الاسم,الوصف", "ar-1,course,دورة اللغة العربية,للمبتدئين", "دورة اللغة العربية"),
    ],
)  # fmt: skip
def test_legacy_encodings_and_header_names_of_seven_languages_are_read(
    tmp_path: Path, encoding: str, header: str, row: str, name: str
) -> None:
    path = tmp_path / "offer.csv"
    path.write_bytes(f"{header}\r\n{row}\r\n".encode(encoding))
    parsed = read_file(path)
    assert parsed.rejected == []
    assert [item.name for item in parsed.items] == [name]
    assert {use.column for use in parsed.columns} >= {"id", "type", "name"}


def test_bytes_no_encoding_reads_for_sure_are_refused_naming_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"id,type,name\n"
        + "a,course,Café\n".encode("windows-1252")
        + "b,course,Кафе\n".encode("windows-1251")
    )
    [rejection] = read_file(path).rejected
    assert (rejection.file, rejection.position, rejection.field) == ("mixed.csv", "file", "(file)")
    assert rejection.message.startswith("byte offset 25 (line 2) is 0xE9, not UTF-8")
    assert "--encoding" in rejection.message
    unknown = read_file(path, CsvReading(encoding="klingon")).rejected[0].message
    assert unknown == 'unknown encoding "klingon"'
    named = read_file(path, CsvReading(encoding="utf-8")).rejected[0].message
    assert named == "byte offset 25 (line 2) is 0xE9, which utf-8 cannot read"
    as_latin = read_file(path, CsvReading(encoding="windows-1252"))
    assert [item.name for item in as_latin.items][0] == "Café"


def test_local_dates_times_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "cours.csv"
    path.write_text(
        "id;type;nom;date de début;date de fin;heure de début;latitude;longitude;prix\n"
        "a;course;Poterie;31/12/2026;31.01.2027;19h30;48,8566;2,3522;0,50 €\n"
        "b;course;Tricot;2026年12月31日;12/31/2027;下午7:30;48.85;2.35;0,00 €\n"
        "c;course;Tissage;03/04/2026;;10:00;;;\n",
        encoding="utf-8",
    )
    parsed = read_file(path)
    items = {item.id: item for item in parsed.items}
    pottery, knitting = items["a"], items["b"]
    assert (pottery.sessions[0].start_date, pottery.sessions[0].end_date) == (
        "2026-12-31",
        "2027-01-31",
    )
    assert (pottery.sessions[0].start_time, pottery.latitude, pottery.longitude) == (
        "19:30",
        48.8566,
        2.3522,
    )
    assert (pottery.free, knitting.free) == (False, True)  # 0,50 € is not free
    assert (knitting.sessions[0].start_date, knitting.sessions[0].end_date) == (
        "2026-12-31",
        "2027-12-31",
    )
    assert knitting.sessions[0].start_time == "19:30"
    [ambiguous] = parsed.rejected
    assert (ambiguous.position, ambiguous.field, ambiguous.value) == (
        "row 4",
        "start_date",
        "03/04/2026",
    )
    assert "--date-order" in ambiguous.expected
    in_order = read_file(path, CsvReading(date_order="dmy"))
    weaving = {item.id: item for item in in_order.items}["c"]
    assert weaving.sessions[0].start_date == "2026-04-03"
    # an order, once named, holds for every date: 12/31/2027 is then no date
    assert [(r.position, r.field, r.value) for r in in_order.rejected] == [
        ("row 3", "end_date", "12/31/2027")
    ]


def test_ambiguous_headers_are_reported_and_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("id,type,name,date\na,event,Fête,2026-12-12\n", encoding="utf-8")
    parsed = read_file(path)
    uses = {use.header: use for use in parsed.columns}
    assert uses["date"].column is None and "start or start_date" in uses["date"].how
    assert [str(notice) for notice in parsed.notices] == [
        'events.csv row 1, field date: the header "date" could mean start or start_date:'
        " name it in a column map"
    ]
    assert [(r.field, r.value) for r in parsed.rejected] == [("start", "")]  # no start guessed
    assert parsed.items == []
    ours = tmp_path / "ours.csv"  # our own column name wins over a recognised one
    ours.write_text("id,type,name,title,lat\na,course,Pottery,Beginners,31.2\n", encoding="utf-8")
    [pottery] = read_file(ours).items
    assert (pottery.name, pottery.extra["title"], pottery.latitude) == (
        "Pottery",
        "Beginners",
        31.2,
    )
    two = tmp_path / "two.csv"
    two.write_text("编号,类型,名称,课程名称\n1,course,书法,书法班\n", encoding="utf-8")
    refused = read_file(two)
    assert [(r.position, r.field) for r in refused.rejected] == [("row 1", "name")]
    assert [str(notice) for notice in refused.notices] == [
        'two.csv row 1, field name: the headers "名称", "课程名称" all mean "name":'
        " name one in a column map"
    ]


def test_a_column_map_settles_headers_sets_constants_and_makes_stable_ids(tmp_path: Path) -> None:
    column_map = tmp_path / "map.yml"
    column_map.write_text(
        "columns:\n  课程名称: name\n  名称: organizer\n"
        "constants:\n  type: course\nid_from: [课程名称, 地址]\n",
        encoding="utf-8",
    )
    path = tmp_path / "courses.csv"
    path.write_text(
        "名称,课程名称,地址\n南湖社区学校,书法班,南湖区湖滨路1号\n南湖社区学校,,\n",
        encoding="utf-8",
    )
    reading = CsvReading(columns=load_column_map(column_map))
    first, again = read_file(path, reading), read_file(path, reading)
    [item] = first.items
    assert (item.name, item.organizer, item.type) == ("书法班", "南湖社区学校", "course")
    assert item.id.startswith("map-") and [i.id for i in again.items] == [item.id]
    assert [(r.position, r.field, r.message) for r in first.rejected][0] == (
        "row 3",
        "id",
        "missing (the id is made from 课程名称, 地址, all empty in this row)",
    )


def test_a_column_map_that_does_not_fit_is_named_by_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("columns:\n  Titre: name\n  Lieu: plaec_name\n", encoding="utf-8")
    with pytest.raises(ColumnMapError) as error:
        load_column_map(bad)
    assert str(error.value).startswith(
        'bad.yml line 3, field columns.Lieu: unknown column "plaec_name"'
    )
    other = tmp_path / "other.yml"
    other.write_text(
        "columns:\n  Titre: name\nconstants:\n  type: course\n  id: x\n", encoding="utf-8"
    )
    path = tmp_path / "offer.csv"
    path.write_text("Nom,Lieu\nPoterie,Salle 1\n", encoding="utf-8")
    parsed = read_file(path, CsvReading(columns=load_column_map(other)))
    assert [(r.position, r.field, r.message) for r in parsed.rejected] == [
        (
            "row 1",
            "Titre",
            'column "Titre" named in the column map other.yml line 2 is no header of this file '
            '(its headers: "Nom", "Lieu")',
        ),
        ("row 1", "name", "column missing from the header"),  # "Nom" is not guessed either
    ]
    assert parsed.readable is False


def test_column_map_names_meet_headers_as_headers_are_compared(tmp_path: Path) -> None:
    """A map written with the header as the operator sees it in another form ("ＮＯＭ", "名　称",
    "nom du lieu") finds it; a name that no header is, even folded, refuses the file naming
    the map's file, line and name, and the command exits non-zero."""
    offer = tmp_path / "offre.csv"
    offer.write_text(
        "ＮＯＭ,类 型,Nom_du-Lieu,名称 编号\nPoterie,course,Salle 1,p1\n", encoding="utf-8"
    )
    folded = tmp_path / "folded.yml"
    folded.write_text(
        "columns:\n  nom: name\n  类型: type\n  nom du lieu: place_name\nid_from: [名称编号]\n",
        encoding="utf-8",
    )
    parsed = read_file(offer, CsvReading(columns=load_column_map(folded)))
    assert [(r.field, r.message) for r in parsed.rejected] == []
    [item] = parsed.items
    assert (item.name, item.type, item.place_name) == ("Poterie", "course", "Salle 1")
    assert item.id.startswith("folded-")
    unmatched = tmp_path / "unmatched.yml"
    unmatched.write_text(
        "columns:\n  nom: name\n  Lieu: place_name\nconstants:\n  type: course\n"
        "id_from:\n  - nom\n  - salle\n",
        encoding="utf-8",
    )
    refused = read_file(offer, CsvReading(columns=load_column_map(unmatched)))
    headers = '(its headers: "ＮＯＭ", "类 型", "Nom_du-Lieu", "名称 编号")'
    assert [(r.position, r.field, r.message) for r in refused.rejected] == [
        ("row 1", name, f'column "{name}" named in the column map unmatched.yml line {line} '
         f"is no header of this file {headers}")
        for name, line in (("Lieu", 3), ("salle", 8))
    ]  # fmt: skip
    command = _cli(str(offer), "--columns", str(unmatched), "--dry-run", data_dir=tmp_path)
    assert command.returncode != 0
    assert 'field Lieu: column "Lieu" named in the column map unmatched.yml line 3' in (
        command.stderr
    )


def test_json_notices_are_objects_with_a_code_as_the_docs_show_them(tmp_path: Path) -> None:
    """`--json` gives each notice as the object docs/catalog-formats.md shows, for programs
    that read it: file, position, field, code and the English message."""
    docs = (REPOSITORY_ROOT / "docs" / "catalog-formats.md").read_text(encoding="utf-8")
    start = docs.index('"notices": [{')
    shown = json.loads("{" + docs[start : docs.index("}]", start) + 2] + "}")["notices"]
    offer = tmp_path / "cours.csv"
    offer.write_text("id;type;name\nc1;course;Poterie\n", encoding="utf-8")
    command = _cli(str(offer), "--dry-run", "--json", data_dir=tmp_path)
    assert command.returncode == 0, command.stderr
    assert json.loads(command.stdout)["notices"] == shown


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["LEARNCITY_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "catalog", "import", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=REPOSITORY_ROOT,
    )


def test_the_command_line_shows_how_each_column_was_understood(tmp_path: Path) -> None:
    checked = _cli(str(LIBRARIES), "--columns", str(MAP), "--dry-run", data_dir=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "dry run, nothing changed: 1 file: 20 valid, 0 rejected"
    shown = [line for line in checked.stderr.splitlines() if line.startswith("column:")]
    assert "column: buenos_aires/bibliotecas.csv 'fna' -> name (column map columns.yml)" in shown
    assert "column: buenos_aires/bibliotecas.csv 'tel' -> (extra) (kept in extra)" in shown
    assert (
        "column: buenos_aires/bibliotecas.csv (no column) -> id (made from fna (columns.yml))"
        in shown
    )
    as_json = json.loads(
        _cli(str(LIBRARIES), "--columns", str(MAP), "--dry-run", "--json", data_dir=tmp_path).stdout
    )
    [(source, uses)] = as_json["columns"].items()
    assert source == "buenos_aires/bibliotecas.csv" and as_json["notices"] == []
    assert {"header": "bar", "column": "district", "how": "column map columns.yml"} in uses
    bad = tmp_path / "bad.yml"
    bad.write_text("colums:\n  fna: name\n", encoding="utf-8")
    refused = _cli(str(LIBRARIES), "--columns", str(bad), "--dry-run", data_dir=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: bad.yml line 1, field colums: unknown key")
    assert not (tmp_path / "learncity.db").exists()  # a dry run opens no database
    assert codecs.lookup("gb18030")  # the detection's legacy codecs exist in this Python


def test_an_event_start_written_locally_becomes_a_date_time(tmp_path: Path) -> None:
    path = tmp_path / "события.csv"
    path.write_bytes(
        "id;тип;название;начало;конец\n"
        "e1;event;Лекция об истории города;31.12.2026 18:00;31.12.2026 19h30\n"
        "e2;event;Ярмарка;2027/1/9 10:00;\n".encode("windows-1251")
    )
    parsed = read_file(path)
    assert parsed.rejected == []
    assert [(i.start, i.end) for i in parsed.items] == [
        ("2026-12-31T18:00:00", "2026-12-31T19:30:00"),
        ("2027-01-09T10:00:00", None),
    ]


def test_an_excel_workbook_reads_as_its_sheet_shows(tmp_path: Path) -> None:
    from datetime import date, datetime, time

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["编号", "类型", "课程名称", "开始日期", "开始时刻", "纬度", "免费", "备注"])
    sheet.append(["zh-1", "course", "太极拳入门", date(2026, 12, 31), time(19, 30), 31.2, True, 3])
    sheet.append([" "])  # a row that shows nothing: skipped, and still counted
    sheet.append(
        ["zh-2", "event", "新年音乐会", datetime(2026, 12, 31, 20, 0), None, "north", False]
    )
    sheet.append(["zh-3", "course", "书法", "31/12/2026", "下午7:30", "31,25", "否"])
    sheet.append(["zh-4", "course", "国画", None, None, None, None, None, "?"])
    path = tmp_path / "课程.xlsx"
    workbook.save(path)
    parsed = read_file(path)
    items = {item.id: item for item in parsed.items}
    tai_chi, calligraphy = items["zh-1"], items["zh-3"]
    assert (tai_chi.name, tai_chi.sessions[0].start_date, tai_chi.sessions[0].start_time) == (
        "太极拳入门",
        "2026-12-31",
        "19:30",
    )
    assert (tai_chi.latitude, tai_chi.free, tai_chi.extra["备注"]) == (31.2, True, "3")
    assert (calligraphy.sessions[0].start_date, calligraphy.latitude) == ("2026-12-31", 31.25)
    assert [(r.position, r.field, r.value) for r in parsed.rejected] == [
        ("row 4", "latitude", "north"),  # numbered as Excel shows it, past the blank row 3
        ("row 4", "start", ""),
        ("row 6", "(row)", "?"),
    ]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"id,type,name\n")
    [refused] = read_file(broken).rejected
    assert (refused.position, refused.field) == ("file", "(file)")
    assert refused.message.startswith("is not an Excel workbook (.xlsx)")
