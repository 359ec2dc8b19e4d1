"""An Excel workbook (`.xlsx`) read as the learncity CSV is: the first sheet, its first row the
header, every other row an item, numbered as Excel shows them (openpyxl, pure Python).

Cells keep what Excel shows: a date cell becomes an ISO date (a date-time when it has a time),
a time cell "HH:MM", a whole number "12", yes/no for a boolean; text is read by the CSV rules
(columns, local dates, decimal commas).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from knowledge.importers.columns import CsvReading
from knowledge.importers.plain_csv import parse_table
from knowledge.importers.reasons import reason
from knowledge.importers.rejections import ParsedFile, Rejection


def parse_xlsx(path: Path, *, source: str, reading: CsvReading | None = None) -> ParsedFile:
    """Parse the workbook's first sheet; a file that is no workbook is refused as a whole."""
    from openpyxl import load_workbook  # only an .xlsx import needs it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        parsed = ParsedFile(source=source, readable=False)
        parsed.rejected.append(
            Rejection(path.name, "file", "(file)", reason("not_xlsx", detail=error))
        )
        return parsed
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = [cell_text(cell) for cell in next(values, ())]
        while header and not header[-1]:  # Excel's formatted but empty columns
            header.pop()
        rows = list(_rows(header, values))
    finally:
        workbook.close()
    return parse_table(header, rows, file=path.name, source=source, reading=reading)


def _rows(
    header: list[str], values: Iterator[tuple[Any, ...]]
) -> Iterator[tuple[int, dict[str, str | None]]]:
    for number, row in enumerate(values, start=2):
        shown = [cell_text(cell) for cell in row]
        if not any(shown):
            continue  # an empty row: Excel shows it, it describes nothing
        cells: dict[str, str | None] = dict(zip(header, shown, strict=False))
        surplus = [cell for cell in shown[len(header) :] if cell]
        if surplus:
            cells[None] = surplus  # type: ignore[index]  # as csv.DictReader keeps them
        yield number, cells


def cell_text(value: object) -> str:
    """A cell as Excel shows it, in the forms the CSV importer reads."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="minutes") + (":00" if value.second == 0 else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
