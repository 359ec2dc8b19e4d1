"""An Excel workbook (`.xlsx`) read as the learncity CSV is: the first sheet, its header row
(table_rows.py: the first, unless a title stands above it), every other row an item, numbered
as Excel shows them (openpyxl, pure Python).

Cells keep what Excel shows: a date cell becomes an ISO date (a date-time when it has a time),
a time cell "HH:MM", a whole number "12", yes/no for a boolean; text is read by the CSV rules
(columns, local dates, decimal commas).
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path

from knowledge.importers.columns import CsvReading
from knowledge.importers.plain_csv import parse_table
from knowledge.importers.reasons import reason
from knowledge.importers.rejections import ParsedFile, Rejection
from knowledge.importers.table_rows import read_table


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
        records = [
            [cell_text(cell) for cell in row]
            for row in workbook.worksheets[0].iter_rows(values_only=True)
        ]
    finally:
        workbook.close()
    table = read_table(records, reading.columns if reading else None)
    return parse_table(table, file=path.name, source=source, reading=reading)


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
