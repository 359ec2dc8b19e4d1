"""The plain learncity CSV: one item per row, list columns separated by `|` (docs/catalog-formats.md)."""

from __future__ import annotations

import csv
import io

from knowledge.documents import CatalogItem, Session
from knowledge.importers.common import (
    ParsedFile,
    RowError,
    describe_schedule,
    free_from_price,
    normalise_accessibility,
    normalise_audience,
    normalise_days,
    normalise_district,
    normalise_language,
    parse_bool,
    parse_coordinate,
    parse_date,
    parse_datetime,
    parse_time,
    split_list,
    text,
    unique,
)

COLUMNS = (
    "id", "type", "name", "description", "topics", "languages", "audiences", "free", "price",
    "place_name", "address", "district", "latitude", "longitude", "days", "start_time",
    "end_time", "schedule_text", "start_date", "end_date", "opening_hours", "amenities",
    "accessibility", "start", "end", "url", "organizer",
)  # fmt: skip
REQUIRED_COLUMNS = ("id", "type", "name")
TYPES = {"course": "course", "space": "space", "learning space": "space", "event": "event"}


def parse_plain_csv(content: str, *, file: str, source: str) -> ParsedFile:
    """Parse every row; a bad row is rejected with its spreadsheet row number (header is row 1)."""
    parsed = ParsedFile(source=source)
    reader = csv.DictReader(io.StringIO(content))
    header = [column.strip().lower() for column in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        parsed.readable = False
        parsed.reject(file, "row 1", missing[0], "column missing from the header")
        return parsed
    reader.fieldnames = header
    for index, row in enumerate(reader):
        position = f"row {index + 2}"
        row_id = text(row.get("id"))
        if row_id:
            parsed.listed_ids.add(row_id)
        try:
            item = _item(row, source)
        except RowError as error:
            parsed.reject(file, position, error.field, error.message)
            continue
        parsed.add(item, position, file)
    return parsed


def _item(row: dict[str, str | None], source: str) -> CatalogItem:
    if None in row:  # DictReader puts surplus cells under the key None
        raise RowError("(row)", "more cells than header columns")
    for column in REQUIRED_COLUMNS:
        if not text(row.get(column)):
            raise RowError(column, "missing")
    kind = TYPES.get(text(row["type"]).lower())
    if kind is None:
        raise RowError(
            "type", f'unknown type "{text(row["type"])}" (expected course, space or event)'
        )
    price = text(row.get("price"))
    free = parse_bool(row.get("free"), "free")
    start = parse_datetime(row.get("start"), "start")
    if kind == "event" and start is None:
        raise RowError("start", "missing (an event needs a start)")
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
        latitude=parse_coordinate(row.get("latitude"), "latitude", 90),
        longitude=parse_coordinate(row.get("longitude"), "longitude", 180),
        sessions=_sessions(row),
        opening_hours=text(row.get("opening_hours")),
        amenities=split_list(row.get("amenities")),
        accessibility=unique(
            normalise_accessibility(v) for v in split_list(row.get("accessibility"))
        ),
        start=start,
        end=parse_datetime(row.get("end"), "end"),
        url=text(row.get("url")),
        organizer=text(row.get("organizer")),
        extra={
            key: text(value) for key, value in row.items() if key not in COLUMNS and text(value)
        },
    )


def _sessions(row: dict[str, str | None]) -> tuple[Session, ...]:
    days = normalise_days(row.get("days"), "days")
    start_time = parse_time(row.get("start_time"), "start_time")
    end_time = parse_time(row.get("end_time"), "end_time")
    start_date = parse_date(row.get("start_date"), "start_date")
    end_date = parse_date(row.get("end_date"), "end_date")
    schedule = text(row.get("schedule_text")) or describe_schedule(days, start_time, end_time)
    if not (schedule or start_date or end_date):
        return ()
    return (Session(schedule, days, start_time, end_time, start_date, end_date),)
