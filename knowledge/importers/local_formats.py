"""Dates, times and numbers as a city's spreadsheet writes them, turned into the ISO forms
the importers check: 31/12/2026, 31.12.2026, 2026年12月31日, 12/31/2026 (only when the day
cannot be a month, or with a date order), 19h30, 7:30 PM, 下午7:30, and decimal commas.

A value these do not recognise is returned unchanged, so the importer's own check rejects it
with the value as the file wrote it. Full-width digits and signs ("１２：３０", "３１．２") are read
as their plain forms (NFKC, and other scripts' digits as 0-9) in these columns only: text a citizen reads stays as written.

A file that writes one date day first ("15/01/2027") and none month first has its ambiguous
dates ("03/02/2027") read the same way, with a notice naming the date that showed the order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from knowledge.importers.common import plain_form
from knowledge.importers.reasons import Reason, reason
from knowledge.importers.rejections import RowError

DATE_ORDERS = ("dmy", "mdy")
DATE_COLUMNS = ("start_date", "end_date")
DATETIME_COLUMNS = ("start", "end")
TIME_COLUMNS = ("start_time", "end_time")
NUMBER_COLUMNS = ("latitude", "longitude")
# Columns read as numbers, dates or times, never shown to a citizen as written.
PLAIN_FORM_COLUMNS = (
    *DATE_COLUMNS, *DATETIME_COLUMNS, *TIME_COLUMNS, *NUMBER_COLUMNS, "month_days", "months",
    "except_dates", "free",
)  # fmt: skip

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"\d{2}:\d{2}")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4})")
_TIME = re.compile(
    r"(?P<noon>上午|下午|晚上)?\s*(?P<h>\d{1,2})\s*(?:[:h.时點点]\s*(?P<m>\d{2})?)?\s*(?:分)?"
    r"\s*(?P<ampm>[ap]\.?\s*m\.?)?",
    re.IGNORECASE,
)


def local_date(raw: str, field_name: str, order: str | None = None) -> str:
    """An ISO date from a local form; `raw` unchanged when it is no date this reads."""
    value = raw.strip()
    match = _YMD.fullmatch(value)
    if match:
        return _iso(raw, int(match[1]), int(match[2]), int(match[3]))
    match = _DAY_MONTH_YEAR.fullmatch(value)
    if not match:
        return raw
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    if match[2] == ".":  # 31.12.2026: day first wherever dots are written
        return _iso(raw, year, second, first)
    if order == "mdy" or (order is None and first <= 12 < second):
        return _iso(raw, year, first, second)
    if order == "dmy" or (order is None and second <= 12 < first) or first == second:
        return _iso(raw, year, second, first)
    raise RowError(
        field_name,
        reason("ambiguous_date", value=raw),
        value=raw,
        expected=reason("expect_date_order"),
    )


def _iso(raw: str, year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return raw  # 31/02/2026: the importer's check names it


def local_datetime(raw: str, field_name: str, order: str | None = None) -> str:
    """An ISO date or date-time from "31/12/2026", "31/12/2026 19:00" or "2026年12月31日19:30";
    ISO date-times ("2026-12-31T19:00:00+08:00") are left to the importer's own check."""
    value = raw.strip()
    alone = local_date(value, field_name, order)
    if alone != value:
        return alone
    match = re.fullmatch(r"(.*?\d日?)(?:\s+|T|(?<=日))(\d.*)", value)
    if not match:
        return raw
    day, clock = local_date(match[1], field_name, order), local_time(match[2])
    if not (_ISO_DATE.fullmatch(day) and _CLOCK.fullmatch(clock)):
        return raw
    return f"{day}T{clock}:00"


def local_time(raw: str) -> str:
    """ "HH:MM" from "19h30", "19h", "7:30 PM", "下午7:30", "19.30", "19时30分"; else `raw`."""
    match = _TIME.fullmatch(raw.strip())
    if not match or not (match["m"] or match["noon"] or match["ampm"] or "h" in raw.lower()):
        return raw
    hour, minute = int(match["h"]), int(match["m"] or 0)
    later = (match["ampm"] or "").lower().startswith("p") or match["noon"] in {"下午", "晚上"}
    if (match["ampm"] or match["noon"]) and hour <= 12:
        hour = hour % 12 + (12 if later else 0)
    if hour > 24 or minute > 59:
        return raw
    return f"{hour:02d}:{minute:02d}"


def decimal_comma(raw: str) -> str:
    """ "48,8566" -> "48.8566": one comma and no dot is a decimal comma."""
    value = raw.strip()
    if re.fullmatch(r"[+-]?\d+,\d+", value):
        return value.replace(",", ".")
    return raw


def local_row(row: dict[str, str | None], order: str | None) -> tuple[dict, list[RowError]]:
    """The row with its dates, times and coordinates in ISO form; the values that cannot be
    read without a date order are returned as errors (their field left as written)."""
    converted: dict[str, str | None] = dict(row)
    for column in PLAIN_FORM_COLUMNS:
        if row.get(column):
            converted[column] = plain_form(row[column] or "")
    row = dict(converted)
    errors: list[RowError] = []
    for columns, convert in (
        (DATE_COLUMNS, local_date),
        (DATETIME_COLUMNS, local_datetime),
    ):
        for column in columns:
            value = row.get(column)
            if value and value.strip():
                try:
                    converted[column] = convert(value, column, order)
                except RowError as error:
                    errors.append(error)
    for column in TIME_COLUMNS:
        if row.get(column):
            converted[column] = local_time(row[column] or "")
    for column in NUMBER_COLUMNS:
        if row.get(column):
            converted[column] = decimal_comma(row[column] or "")
    return converted, errors


def written_order(raw: str) -> str | None:
    """ "dmy" for "15/01/2027", "mdy" for "01/15/2027", "either" for "03/02/2027"; None when
    it is no day/month/year date, or uses dots (always day first), or says 03/03."""
    value = plain_form(raw).strip()
    match = _DAY_MONTH_YEAR.match(value)
    if not match or match[2] == ".":
        return None
    first, second = int(match[1]), int(match[3])
    if first <= 12 < second <= 31:
        return "mdy"
    if second <= 12 < first <= 31:
        return "dmy"
    return "either" if first != second and max(first, second) <= 12 else None


def file_date_order(
    rows: Iterable[tuple[int, dict[str, str | None]]],
) -> tuple[str | None, tuple[str, str, Reason] | None]:
    """The one order a file's telling dates agree on, and a notice (position, field, why)
    naming the first of them; (None, None) when they disagree, none tells, or no date needs
    an order."""
    seen: dict[str, tuple[str, str, str]] = {}
    for number, row in rows:
        for column in (*DATE_COLUMNS, *DATETIME_COLUMNS):
            order = written_order(row.get(column) or "")
            if order is not None:
                seen.setdefault(order, (f"row {number}", column, (row.get(column) or "").strip()))
    ambiguous = seen.pop("either", None)
    if ambiguous is None or len(seen) != 1:
        return None, None
    [(order, (position, column, value))] = seen.items()
    why = reason("date_order_guessed", value=value, order=reason(f"order_{order}"))
    return order, (position, column, why)
