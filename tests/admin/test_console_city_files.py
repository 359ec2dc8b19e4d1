"""A city's own files through the console's import page (docs/console.md): the Buenos Aires
libraries file with its column map is checked (every column shown as understood), imported
and found in the catalog; the same file as Windows-1252 with `;` and encoding "auto" imports
the same items, and what the check decided (encoding, delimiter) reads in the reader's language;
a bad column map is refused with its line and nothing is kept; strangers and
planners are refused the new fields."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import httpx
import openpyxl

from bot.admin.i18n import LANGUAGE_COOKIE
from tests.admin.console_support import csrf_token_in, logged_in
from tests.admin.test_catalog_editing import data_dir, editor  # noqa: F401 (fixtures)

CITY = Path(__file__).parents[1] / "knowledge" / "data" / "buenos_aires"
LIBRARIES = (CITY / "bibliotecas.csv").read_bytes()
COLUMN_MAP = (CITY / "columns.yml").read_bytes()
ROWS = len(list(csv.DictReader(io.StringIO(LIBRARIES.decode("utf-8")))))


async def _check(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, content: bytes, column_map: bytes | None = None, **fields: str
):
    token = csrf_token_in((await client.get("/admin/catalog/import")).text)
    files = {"file": ("bibliotecas.csv", content, "text/csv")}
    if column_map is not None:
        files["columns"] = ("columns.yml", column_map, "application/yaml")
    answer = await client.post(
        "/admin/catalog/import/check", data={"csrf_token": token, **fields}, files=files
    )
    return answer, token


def _run_form(page: str) -> dict[str, str]:
    form = page[page.index('action="/admin/catalog/import/run"') :]
    form = form[: form.index("</form>")]
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form)
    }


def _understood(page: str) -> list[tuple[str, str]]:
    table = page[page.index('class="columns-understood"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>.*?</td></tr>", table)
    return [(html.unescape(header), html.unescape(ours)) for header, ours in rows]


async def test_the_buenos_aires_file_is_checked_imported_and_found(editor, data_dir: Path) -> None:  # noqa: F811
    client, _ = editor
    checked, _ = await _check(client, LIBRARIES, COLUMN_MAP)

    assert checked.status_code == 200, checked.text[:3000]
    understood = _understood(checked.text)
    assert ("fna", "name") in understood and ("bar", "district") in understood
    assert ("gna", "kept in extra") in understood
    assert ("", "id") in understood, "the made id is shown"
    assert f"{ROWS} items can be imported" in checked.text

    imported = await client.post("/admin/catalog/import/run", data=_run_form(checked.text))
    assert imported.status_code == 200 and f"{ROWS} added" in imported.text
    found = await client.get("/admin/catalog?q=Alfonsina Storni")
    assert "Biblioteca Pública Alfonsina Storni" in found.text
    assert not (data_dir / "uploads").exists() or not any((data_dir / "uploads").iterdir())


async def test_the_check_explains_the_columns_in_chinese(editor) -> None:  # noqa: F811
    client, _ = editor
    client.cookies.set(LANGUAGE_COOKIE, "zh")
    checked, _ = await _check(client, LIBRARIES, COLUMN_MAP)

    assert checked.status_code == 200
    assert "每一列的理解方式" in checked.text and "列映射 columns.yml" in checked.text
    assert "保留在 extra 中" in checked.text


async def test_a_windows_1252_semicolon_file_imports_the_same_items(editor) -> None:  # noqa: F811
    client, _ = editor
    first, _ = await _check(client, LIBRARIES, COLUMN_MAP)
    await client.post("/admin/catalog/import/run", data=_run_form(first.text))
    legacy = _as_excel_saves_it_in_french()
    assert legacy != LIBRARIES and b"\xfa" in legacy  # "ú" of Pública as one byte

    checked, _ = await _check(client, legacy, COLUMN_MAP, encoding="", date_order="")
    again = await client.post("/admin/catalog/import/run", data=_run_form(checked.text))

    assert f"{ROWS} items can be imported" in checked.text
    assert f"0 added, 0 updated, {ROWS} unchanged" in again.text


def _as_excel_saves_it_in_french() -> bytes:
    """The libraries file as Excel saves "CSV (;)" in Western Europe: `;`, Windows-1252."""
    rows = list(csv.reader(io.StringIO(LIBRARIES.decode("utf-8"))))
    semicolons = io.StringIO()
    csv.writer(semicolons, delimiter=";", lineterminator="\r\n").writerows(rows)
    return semicolons.getvalue().encode("cp1252")


def _notices(page: str) -> list[tuple[str, ...]]:
    table = page[page.index('<table id="notices">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return [tuple(html.unescape(cell) for cell in row) for row in rows]


async def test_what_the_check_decided_reads_in_the_readers_language(editor) -> None:  # noqa: F811
    client, _ = editor
    legacy = _as_excel_saves_it_in_french()
    line = legacy.count(b"\n", 0, re.search(rb"[\x80-\xff]", legacy).start()) + 1

    english, _ = await _check(client, legacy, COLUMN_MAP)
    client.cookies.set(LANGUAGE_COOKIE, "zh")
    chinese, _ = await _check(client, legacy, COLUMN_MAP)

    assert _notices(english.text) == [
        (
            "bibliotecas.csv",
            f"line {line}",
            "(encoding)",
            "read as Windows-1252: this is the first line not in UTF-8 (if its letters look"
            " wrong, choose the encoding under Encoding)",
        ),
        (
            "bibliotecas.csv",
            "row 1",
            "(delimiter)",
            "columns are separated by semicolons (;) (as the first rows show)",
        ),
    ]
    assert _notices(chinese.text) == [
        (
            "bibliotecas.csv",
            f"第 {line} 行",
            "（编码）",
            "按 Windows-1252 读取：这是第一处不是 UTF-8 的行（如果文字显示不对，请在“编码”中选择）",
        ),
        ("bibliotecas.csv", "第 1 行", "（分隔符）", "各列以分号（;）分隔（据前几行判断）"),
    ]


async def test_a_bad_column_map_is_refused_with_its_line(editor, data_dir: Path) -> None:  # noqa: F811
    client, _ = editor
    bad = COLUMN_MAP.replace(b"  bar: district", b"  bar: barrio")
    line = bad.decode().splitlines().index("  bar: barrio   # barrio") + 1

    refused, _ = await _check(client, LIBRARIES, bad)

    assert refused.status_code == 400
    message = html.unescape(re.search(r'id="import-error">(.*?)</p>', refused.text).group(1))
    assert f"columns.yml line {line}, field columns.bar" in message and "barrio" in message
    assert 'action="/admin/catalog/import/run"' not in refused.text
    assert not any((data_dir / "uploads").iterdir()), "nothing kept"
    catalog = await client.get("/admin/catalog?q=Alfonsina")
    assert "Biblioteca Pública Alfonsina Storni" not in catalog.text


async def test_strangers_and_planners_are_refused_the_new_fields(editor, data_dir: Path) -> None:  # noqa: F811
    _, database_url = editor
    files = {
        "file": ("bibliotecas.csv", LIBRARIES, "text/csv"),
        "columns": ("columns.yml", COLUMN_MAP, "application/yaml"),
    }
    fields = {"encoding": "cp1252", "date_order": "dmy"}
    async with logged_in(database_url, {"mei": "planner"}, "mei") as planner:
        token = csrf_token_in((await planner.get("/admin/planner")).text)
        for path in ("/admin/catalog/import/check", "/admin/catalog/import/run"):
            answer = await planner.post(path, data={"csrf_token": token, **fields}, files=files)
            assert answer.status_code == 403, path
    async with logged_in(database_url, {}, "nobody") as stranger:
        for path in ("/admin/catalog/import/check", "/admin/catalog/import/run"):
            answer = await stranger.post(path, data=fields, files=files)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/admin/login"), path
    assert not (data_dir / "uploads").exists() or not any((data_dir / "uploads").iterdir())


async def test_the_same_libraries_as_a_workbook_and_as_tab_separated(
    editor,  # noqa: F811
    tmp_path: Path,
) -> None:

    client, _ = editor
    rows = list(csv.reader(io.StringIO(LIBRARIES.decode("utf-8"))))
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(tmp_path / "bibliotecas.xlsx")
    tabs = io.StringIO()
    csv.writer(tabs, delimiter="\t", lineterminator="\n").writerows(rows)
    uploads = {
        "bibliotecas.xlsx": (tmp_path / "bibliotecas.xlsx").read_bytes(),
        "bibliotecas.tsv": tabs.getvalue().encode("utf-8"),
    }
    for name, content in uploads.items():
        token = csrf_token_in((await client.get("/admin/catalog/import")).text)
        checked = await client.post(
            "/admin/catalog/import/check",
            data={"csrf_token": token},
            files={"file": (name, content), "columns": ("columns.yml", COLUMN_MAP)},
        )
        assert checked.status_code == 200, name
        assert f"{ROWS} items can be imported; 0 rows rejected" in checked.text, name
        assert ("fna", "name") in _understood(checked.text), name
