"""Files as a stranger's city exports them, built here from formats cities publish: Excel's
French "CSV (;)" in Windows-1252 with decimal commas and day-first dates, workbooks whose
header sits under a merged title or an empty row, a totals row at the bottom, duplicated ids,
full-width forms, HSDS tables in GB18030. Each imports correctly, telling what it decided
(a notice naming file, row and field), or is refused naming file, line and field; a refused
file changes nothing in the catalog. Everything goes through the real importer and SQLite."""

from __future__ import annotations

from pathlib import Path

import openpyxl

import knowledge
from core.database import session_scope
from knowledge.importers import CsvReading, ParsedFile, read_catalog, read_file
from tests.knowledge.import_support import catalog_with_two_courses, hsds_package


def _written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _notices(parsed: ParsedFile) -> list[tuple[str, str, str]]:
    return [(notice.position, notice.field, notice.message.code) for notice in parsed.notices]


def _workbook(path: Path, rows: list[list[object]], merged: str = "") -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if merged:
        book.active.merge_cells(merged)
    book.save(path)
    return path


HEADER = ["id", "type", "name", "price", "start_date"]
ROWS = [["x1", "course", "Pottery", "10", "15/01/2027"], ["x2", "course", "Knitting", "5", ""]]


def test_a_french_excel_semicolon_file_with_decimal_commas_imports(tmp_path: Path) -> None:
    path = tmp_path / "cours.csv"
    path.write_bytes(
        (
            "Identifiant;Type;Nom;Prix;Latitude;Longitude;Date de début;Heure de début\r\n"
            "c1;course;Poterie pour débutants;12,50 €;48,8566;2,3522;15/01/2027;18h30\r\n"
            "c2;course;Français langue étrangère;0,00 €;48,86;2,35;03/02/2027;19:00\r\n"
        ).encode("cp1252")
    )
    parsed = read_file(path)
    assert parsed.rejected == []
    pottery, french = parsed.items
    assert (pottery.name, pottery.price, pottery.free, pottery.latitude) == (
        "Poterie pour débutants",
        "12,50 €",
        False,
        48.8566,
    )
    assert (french.free, french.sessions[0].start_date, french.sessions[0].start_time) == (
        True,
        "2027-02-03",  # day first, as row 2's 15/01/2027 shows
        "19:00",
    )
    assert _notices(parsed) == [
        ("line 1", "(encoding)", "encoding_guessed"),  # "début" in the header
        ("row 1", "(delimiter)", "delimiter_guessed"),
        ("row 2", "start_date", "date_order_guessed"),
    ]
    assert str(parsed.notices[2]).startswith(
        'cours.csv row 2, field start_date: "15/01/2027" shows the file writes day/month/year'
    )
    named = read_file(path, CsvReading(encoding="cp1252", date_order="dmy"))
    assert _notices(named) == [("row 1", "(delimiter)", "delimiter_guessed")]
    assert [item.sessions[0].start_date for item in named.items] == ["2027-01-15", "2027-02-03"]


def test_dates_that_disagree_on_their_order_still_refuse_the_ambiguous_one(tmp_path: Path) -> None:
    path = _written(
        tmp_path / "mixed.csv",
        "id,type,name,start_date\na,course,A,15/01/2027\nb,course,B,01/31/2027\n"
        "c,course,C,03/02/2027\n",
    )
    parsed = read_file(path)
    assert [(r.position, r.field, r.value) for r in parsed.rejected] == [
        ("row 4", "start_date", "03/02/2027")
    ]
    assert _notices(parsed) == []


def test_a_workbook_header_under_a_merged_title_or_an_empty_row(tmp_path: Path) -> None:
    titled = _workbook(
        tmp_path / "titled.xlsx", [["Offre de cours 2027"], HEADER, *ROWS], merged="A1:E1"
    )
    parsed = read_file(titled)
    assert [item.name for item in parsed.items] == ["Pottery", "Knitting"]
    assert _notices(parsed) == [("row 2", "(header)", "rows_above_header")]
    empty_first = _workbook(tmp_path / "empty.xlsx", [[None] * 5, HEADER, *ROWS])
    parsed = read_file(empty_first)
    assert [item.id for item in parsed.items] == ["x1", "x2"] and parsed.notices == []
    bad = _workbook(tmp_path / "bad.xlsx", [["Offre"], HEADER, ["x1", "course", "", "", ""]])
    [rejected] = read_file(bad).rejected
    assert (rejected.file, rejected.position, rejected.field) == ("bad.xlsx", "row 3", "name")


def test_a_totals_row_is_skipped_but_a_course_named_total_is_not(tmp_path: Path) -> None:
    path = _written(
        tmp_path / "offer.csv",
        "id,type,name,price\nt1,course,Total fitness,10\nt2,course,Knitting,5\n,,Total:,15\n",
    )
    parsed = read_file(path)
    assert [item.name for item in parsed.items] == ["Total fitness", "Knitting"]
    assert parsed.rejected == []
    assert _notices(parsed) == [("row 4", "name", "totals_row_skipped")]
    book = _workbook(tmp_path / "offer.xlsx", [HEADER, *ROWS, [None, None, "合计", 15, None]])
    assert _notices(read_file(book)) == [("row 4", "name", "totals_row_skipped")]


def test_a_note_under_the_table_is_skipped_but_a_row_after_an_empty_one_is_not(
    tmp_path: Path,
) -> None:
    noted = _workbook(
        tmp_path / "noted.xlsx",
        [HEADER, *ROWS, [], ["Fuente: Ciudad de Buenos Aires, 2026"], [None, "actualizado 1/12"]],
    )
    parsed = read_file(noted)
    assert [item.id for item in parsed.items] == ["x1", "x2"] and parsed.rejected == []
    assert _notices(parsed) == [
        ("row 5", "id", "note_below_table"),
        ("row 6", "type", "note_below_table"),
    ]
    gap = _workbook(tmp_path / "gap.xlsx", [HEADER, ROWS[0], [], ROWS[1], ["x3 only"]])
    parsed = read_file(gap)
    assert [item.id for item in parsed.items] == ["x1", "x2"] and parsed.notices == []
    assert [(r.position, r.field) for r in parsed.rejected] == [
        ("row 5", "type"),
        ("row 5", "name"),
    ]


def test_full_width_forms_and_other_digits_are_read_and_text_is_kept(tmp_path: Path) -> None:
    path = _written(
        tmp_path / "课程.csv",
        "ＩＤ,类　型,名　称,ＰＲＩＣＥ,开始时刻,纬　度\nf1,course,书法班,１２元,１２：３０,３１．２\n",
    )
    [item] = read_file(path).items
    assert (item.name, item.price, item.latitude) == ("书法班", "１２元", 31.2)
    assert item.sessions[0].start_time == "12:30"
    arabic = _written(
        tmp_path / "دورات.csv", "id,type,name,start_time,latitude\nar1,course,خط,١٩:٣٠,٣١.٢\n"
    )
    [item] = read_file(arabic).items
    assert (item.sessions[0].start_time, item.latitude) == ("19:30", 31.2)
    package = hsds_package(tmp_path, ("schedules.csv", "18:30,20:00", "１８：３０,２０：００"))
    mandarin = {item.id: item for item in read_catalog(package)[0].items}["svc-mandarin"]
    assert (mandarin.sessions[0].start_time, mandarin.sessions[0].end_time) == ("18:30", "20:00")


def test_a_refused_file_changes_nothing_and_duplicated_ids_are_named(tmp_path: Path) -> None:
    url, path, before = catalog_with_two_courses(tmp_path)
    path.write_text("ident;kind;what\na;course;Pottery 2\n", encoding="utf-8")
    with session_scope(url) as session:
        refused = knowledge.import_catalog(path, session=session, prune=True)
    assert not refused.complete
    assert [(r.file, r.position, r.field) for r in refused.rejected] == [
        ("offer.csv", "row 1", "id"),
        ("offer.csv", "row 1", "type"),
        ("offer.csv", "row 1", "name"),
    ]
    path.write_text("id,type,name\na,course,Pottery\na,course,Pottery again\n", encoding="utf-8")
    with session_scope(url) as session:
        twice = knowledge.import_catalog(path, session=session, dry_run=True)
    assert [(r.position, r.field, r.value) for r in twice.rejected] == [("row 3", "id", "a")]
    with session_scope(url) as session:
        assert knowledge.content_hashes(session) == before


def test_hsds_tables_in_a_legacy_encoding_are_detected_or_named(tmp_path: Path) -> None:
    package = hsds_package(tmp_path)
    services = package / "services.csv"
    utf8 = read_catalog(package)[0]
    chinese = services.read_text(encoding="utf-8").replace(
        "Mandarin for Newcomers,,Beginner Mandarin for new residents",
        "新市民普通话课程,,为新到本市的居民开设的普通话入门课程",
    )
    services.write_bytes(chinese.encode("gb18030"))
    [parsed] = read_catalog(package)
    assert len(parsed.items) == len(utf8.items) and parsed.rejected == utf8.rejected
    assert "新市民普通话课程" in {item.name for item in parsed.items}
    assert [(n.file, n.field, n.message.code) for n in parsed.notices] == [
        ("services.csv", "(encoding)", "encoding_guessed")
    ]
    [wrong] = read_catalog(package, CsvReading(encoding="utf-8"))
    assert wrong.readable is False and wrong.items == []
    [(file, position, field, message)] = [
        (r.file, r.position, r.field, r.message) for r in wrong.rejected
    ]
    assert (file, position, field) == ("services.csv", "file", "(file)")
    assert "which utf-8 cannot read" in message and "(line " in message


def test_excels_sep_line_names_the_delimiter_and_the_header_is_row_1(tmp_path: Path) -> None:
    text = "sep=;\r\nid;type;nom\r\na;course;Poterie, tour\r\n"
    parsed = read_file(_written(tmp_path / "offre.csv", text))
    assert [(item.id, item.name) for item in parsed.items] == [("a", "Poterie, tour")]
    assert parsed.notices == [] and parsed.positions == {"a": "row 2"}


def test_a_binary_file_is_refused_saying_what_it_looks_like(tmp_path: Path) -> None:
    old = tmp_path / "cours.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)))
    [rejection] = read_file(old).rejected
    assert (rejection.file, rejection.position, rejection.field) == ("cours.xls", "file", "(file)")
    assert rejection.message == (
        "is not text (it looks like Excel 97-2003 (.xls) or another old Office):"
        " save it as .xlsx or CSV and import that"
    )
