"""Where a city's table starts and ends: the header row under a title or an empty first row,
the rows that describe nothing, and the totals row a spreadsheet adds at the bottom.

Excel exports often open with a merged title row ("Offre de cours 2027") or an empty row, and
close with "Total" and a sum, or with a note under an empty row ("Fuente: GCBA"). The header
is the row, among the first few, that names most of our columns; rows above it, a last row
holding only a totals word and numbers, and one-phrase rows after the last empty row are
skipped, each with a notice naming its row, so the operator sees what was left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from knowledge.importers.columns import ColumnMap, header_key, plan_columns
from knowledge.importers.reasons import Reason, reason

HEADER_SEARCH_ROWS = 10  # a title block longer than this is no longer a title
# "Total" in the seven languages (and Excel's own "Grand Total", "Sum").
_TOTAL_WORDS = {
    header_key(word)
    for word in (
        "total", "totals", "grand total", "sum", "subtotal", "somme", "total general", "suma",
        "合计", "总计", "合計", "總計", "小计", "共计", "итого", "всего", "усього", "разом",
        "المجموع", "الإجمالي",
    )
}  # fmt: skip
_NUMBER = re.compile(r"[+-]?[\d\s.,'’]*\d[\d\s.,'’]*\s*[%€$£¥元₽₴]?")

Cells = dict[str | None, Any]  # None: surplus cells beyond the header


@dataclass
class Table:
    """A table's header (and its row number), its rows numbered as the source shows them, and
    what was skipped: (position, field, why) for each notice."""

    header_row: int
    header: list[str]
    rows: list[tuple[int, Cells]]
    notices: list[tuple[str, str, Reason]] = field(default_factory=list)


def read_table(records: Iterable[list[str]], column_map: ColumnMap | None = None) -> Table:
    """The table in `records` (row 1 first), its header found and its totals row left out."""
    numbered = list(enumerate(([cell.strip() for cell in record] for record in records), 1))
    at = _header_index([cells for _number, cells in numbered[:HEADER_SEARCH_ROWS]], column_map)
    header_row, header = numbered[at] if numbered else (1, [])
    while header and not header[-1]:  # formatted but empty columns
        header = header[:-1]
    table = Table(header_row, list(header), [])
    skipped = sum(1 for _number, cells in numbered[:at] if any(cells))
    if skipped:
        table.notices.append(
            (f"row {header_row}", "(header)", reason("rows_above_header", count=skipped))
        )
    body = numbered[at + 1 :]
    while body and not any(body[-1][1]):
        body.pop()
    notes = _notes_below(body, len(table.header))
    for number, cells in body[: len(body) - len(notes)]:
        if any(cells):  # an empty row describes nothing
            table.rows.append((number, _as_cells(table.header, cells)))
    if table.rows:
        number, cells = table.rows[-1]
        word = _totals_word(cells)
        if word is not None:
            table.rows.pop()
            table.notices.append(
                (f"row {number}", word[0], reason("totals_row_skipped", value=word[1]))
            )
    for number, cells in notes:
        [(column, note)] = [(i, cell) for i, cell in enumerate(cells) if cell]
        where = table.header[column] if column < len(table.header) else "(row)"
        table.notices.append((f"row {number}", where, reason("note_below_table", value=note)))
    return table


def _notes_below(body: list[tuple[int, list[str]]], width: int) -> list[tuple[int, list[str]]]:
    """The rows after the table's last empty row when each holds one phrase and nothing else
    ("Fuente: GCBA, 2026"), under a table of several columns; else none."""
    empty = [index for index, (_number, cells) in enumerate(body) if not any(cells)]
    if not empty or width < 3 or not any(any(cells) for _n, cells in body[: empty[-1]]):
        return []
    below = body[empty[-1] + 1 :]
    if all(_one_phrase(cells) for _number, cells in below):
        return below
    return []


def _one_phrase(cells: list[str]) -> bool:
    filled = [cell for cell in cells if cell]
    return len(filled) == 1 and len(filled[0].split()) >= 2  # ids and codes have no spaces


def _header_index(first_rows: list[list[str]], column_map: ColumnMap | None) -> int:
    """The row naming most of our columns; the first row when none names more than it."""
    best, best_count = 0, -1
    for index, cells in enumerate(first_rows):
        count = len(plan_columns(cells, column_map).given()) if any(cells) else -1
        if count > best_count:
            best, best_count = index, count
    return best


def _as_cells(header: list[str], values: list[str]) -> Cells:
    """One row under its header, surplus cells under None as csv.DictReader keeps them."""
    cells: Cells = dict(zip(header, values, strict=False))
    surplus = [value for value in values[len(header) :] if value]
    if surplus:
        cells[None] = surplus
    return cells


def _totals_word(cells: Cells) -> tuple[str, str] | None:
    """(header, cell) of the totals word when the row holds only it and numbers, else None."""
    word = None
    for header, value in cells.items():
        if header is None or not value:
            continue
        if header_key(value.rstrip(":：")) in _TOTAL_WORDS and word is None:
            word = (header, value)
        elif not _NUMBER.fullmatch(unicodedata.normalize("NFKC", value)):
            return None
    return word
