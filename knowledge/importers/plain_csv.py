"""The plain learncity CSV: one item per row, list columns separated by `|` (docs/catalog-formats.md)."""

from __future__ import annotations

import csv
import io
from datetime import date

from knowledge.documents import CatalogItem, Session
from knowledge.importers.columns import OUR_COLUMNS, CsvReading, plan_columns
from knowledge.importers.common import (
    EXPECTED_DATETIME,
    ParsedFile,
    RowError,
    RowErrors,
    RowProblems,
    describe_schedule,
    free_from_price,
    normalise_accessibility,
    normalise_audience,
    normalise_district,
    normalise_language,
    parse_bool,
    parse_coordinate,
    parse_date,
    parse_datetime,
    parse_link,
    parse_time,
    require,
    split_list,
    text,
    unique,
)
from knowledge.importers.local_formats import file_date_order, local_row
from knowledge.importers.reasons import reason
from knowledge.importers.recurrence import (
    days_by_week_of_month,
    describe_pattern,
    iso_dates,
    month_days,
    months_of_year,
    yearly_pattern,
)
from knowledge.importers.rejections import Notice
from knowledge.importers.table_rows import Table, read_table

COLUMNS = OUR_COLUMNS
REQUIRED_COLUMNS = ("id", "type", "name")
TYPES = {"course": "course", "space": "space", "learning space": "space", "event": "event"}


def parse_plain_csv(
    content: str,
    *,
    file: str,
    source: str,
    delimiter: str = ",",
    reading: CsvReading | None = None,
) -> ParsedFile:
    """Parse every row of CSV text; rows are numbered as a spreadsheet shows them (the header
    is row 1 unless a title stands above it)."""
    reading = reading or CsvReading()
    records = csv.reader(io.StringIO(content), delimiter=delimiter)
    table = read_table(records, reading.columns)
    return parse_table(table, file=file, source=source, reading=reading)


def parse_table(
    table: Table, *, file: str, source: str, reading: CsvReading | None = None
) -> ParsedFile:
    """Parse a table (CSV or a spreadsheet's sheet): each bad field of a row is reported with
    its row number, and a row with any bad field is left out. Headers are ours, a column
    map's (`reading.columns`) or names recognised in seven languages (columns.py)."""
    reading = reading or CsvReading()
    parsed = ParsedFile(source=source)
    plan = plan_columns(table.header, reading.columns)
    header_at = f"row {table.header_row}"
    parsed.columns = plan.report()
    parsed.notices = [Notice(file, where, name, why) for where, name, why in table.notices]
    parsed.notices += [Notice(file, header_at, name, why) for name, why in plan.notices]
    made = ["id"] if plan.map.id_from else []  # a made id's problem is named first
    order = made + [use.column or use.header.strip().lower() for use in plan.uses]
    missing = [column for column in REQUIRED_COLUMNS if column not in plan.given()]
    if missing or plan.problems:
        parsed.readable = False
        for field_name, why, value in plan.problems:
            parsed.reject(
                file,
                header_at,
                field_name,
                why,
                value=value,
                expected=reason("expect_header_column"),
            )
        for column in missing:
            parsed.reject(
                file,
                header_at,
                column,
                reason("column_missing"),
                expected=reason("expect_header", columns=", ".join(REQUIRED_COLUMNS)),
            )
        return parsed
    rows = [(number, plan.row(cells)) for number, cells in table.rows]
    date_order = reading.order
    if date_order is None:
        date_order, notice = file_date_order(rows)
        if notice is not None:
            parsed.notices.append(Notice(file, *notice))
    for number, row in rows:
        position = f"row {number}"
        row_id = text(row.get("id"))
        if row_id:
            parsed.listed_ids.add(row_id)
        row, local_errors = local_row(row, date_order)
        if plan.map.id_from and not row_id:
            columns = ", ".join(plan.map.id_from)
            local_errors.insert(
                0,
                RowError(
                    "id",
                    reason("id_columns_empty", columns=columns),
                    value="",
                    expected=reason("expect_value"),
                ),
            )
        try:
            item = _item(row, source, local_errors)
        except RowError as error:  # the row's bad fields in the order of its columns
            errors = sorted(error.all(), key=lambda e: _column_order(order, e.field))
            parsed.reject_error(file, position, RowErrors(errors))
            continue
        parsed.add(item, position, file)
    return parsed


def _column_order(header: list[str], column: str) -> int:
    return header.index(column) if column in header else len(header)


def item_from_row(row: dict[str, str | None], source: str) -> CatalogItem:
    """One item from a row of this format's columns; raises RowErrors with every bad field
    (the console's edit form checks an edited item exactly as an imported row)."""
    return _item(row, source)


def _item(
    row: dict[str, str | None], source: str, local_errors: list[RowError] | None = None
) -> CatalogItem:
    problems = RowProblems()
    problems.errors.extend(local_errors or [])
    if None in row:  # DictReader puts surplus cells under the key None
        problems.add(
            "(row)",
            reason("more_cells"),
            value=",".join(text(cell) for cell in row[None] or []),  # type: ignore[index]
            expected=reason("expect_one_cell_per_column"),
        )
    for column in REQUIRED_COLUMNS:
        problems.check(require, row.get(column), column)
    raw_type = text(row.get("type"))
    kind = TYPES.get(raw_type.lower())
    if kind is None and raw_type:
        problems.add(
            "type",
            reason("unknown_csv_type", value=raw_type),
            value=raw_type,
            expected=reason("expect_csv_type"),
        )
    price = text(row.get("price"))
    free = problems.check(parse_bool, row.get("free"), "free")
    start = problems.check(parse_datetime, row.get("start"), "start")
    if kind == "event" and start is None and not text(row.get("start")):
        problems.add("start", reason("missing_event_start"), value="", expected=EXPECTED_DATETIME)
    latitude = problems.check(parse_coordinate, row.get("latitude"), "latitude", 90)
    longitude = problems.check(parse_coordinate, row.get("longitude"), "longitude", 180)
    end = problems.check(parse_datetime, row.get("end"), "end")
    url = problems.check(parse_link, row.get("url"), "url", default="")
    sessions = sessions_from_row(row, problems)
    seen: set[str] = set()  # a field with a local-format problem is named once, by it
    problems.errors = [e for e in problems.errors if not (e.field in seen or seen.add(e.field))]
    problems.raise_if_any()
    return CatalogItem(
        id=text(row["id"]),
        type=kind,  # type: ignore[arg-type]
        name=text(row["name"]),
        description=text(row.get("description")),
        source=source,
        topics=split_list(row.get("topics")),
        languages=unique(normalise_language(v) for v in split_list(row.get("languages"))),
        audiences=unique(normalise_audience(v) for v in split_list(row.get("audiences"))),
        free=free if free is not None else free_from_price(price),
        price=price,
        place_name=text(row.get("place_name")),
        address=text(row.get("address")),
        district=normalise_district(row.get("district")),
        latitude=latitude,
        longitude=longitude,
        sessions=sessions,
        opening_hours=text(row.get("opening_hours")),
        amenities=split_list(row.get("amenities")),
        accessibility=unique(
            normalise_accessibility(v) for v in split_list(row.get("accessibility"))
        ),
        start=start,
        end=end,
        url=url,
        organizer=text(row.get("organizer")),
        extra={
            key: text(value) for key, value in row.items() if key not in COLUMNS and text(value)
        },
    )


def sessions_from_row(row: dict[str, str | None], problems: RowProblems) -> tuple[Session, ...]:
    """One session per group of days sharing their weeks of the month: `days` "1Sa | 3Sa"
    is the first and third Saturday of each month, "Sa" every Saturday."""
    groups = problems.check(days_by_week_of_month, row.get("days"), "days", default=[])
    on_days = problems.check(month_days, row.get("month_days"), "month_days", default=())
    excepted = problems.check(iso_dates, row.get("except_dates"), "except_dates", default=())
    start_time = problems.check(parse_time, row.get("start_time"), "start_time")
    end_time = problems.check(parse_time, row.get("end_time"), "end_time")
    start_date = problems.check(parse_date, row.get("start_date"), "start_date")
    end_date = problems.check(parse_date, row.get("end_date"), "end_date")
    months = problems.check(months_of_year, row.get("months"), "months", default=())
    if (
        months
    ):  # a yearly pattern: `days` / `month_days` within these months (else start_date's day)
        first = date.fromisoformat(start_date) if start_date else None
        months, on_days = problems.check(
            yearly_pattern, months, groups, on_days, first, "months", default=((), on_days)
        )
    sessions = []
    for days, weeks in groups or [((), ())]:
        written = describe_schedule(days, start_time, end_time)
        schedule = text(row.get("schedule_text")) or describe_pattern(
            written, weeks, on_days, 1, "yearly" if months else "monthly", months
        )
        if schedule or start_date or end_date:
            sessions.append(
                Session(
                    schedule,
                    days,
                    start_time,
                    end_time,
                    start_date,
                    end_date,
                    weeks_of_month=weeks,
                    month_days=on_days,
                    except_dates=excepted,
                    months=months,
                )
            )
    return tuple(sessions)
