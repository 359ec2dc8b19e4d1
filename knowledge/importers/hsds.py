"""Open Referral HSDS tabular packages: one course per service at a location.

Ids: a service at exactly one location (or at none) keeps the service's own `id`; a service at
several locations yields one item per location with id `<service id>@<location id>`, so each
place can be found on the map. Reads HSDS 2 and 3 file names (physical_addresses.csv or
addresses.csv, languages.csv, eligibility.csv, schedules.csv or regular_schedules.csv,
cost_options.csv, taxonomy_terms.csv with service_attributes.csv or attributes.csv,
accessibility_for_disabilities.csv or accessibility.csv).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from knowledge.documents import CatalogItem, Session
from knowledge.importers.columns import CsvReading
from knowledge.importers.common import (
    ParsedFile,
    Rejection,
    RowError,
    RowErrors,
    RowProblems,
    describe_schedule,
    free_from_price,
    normalise_accessibility,
    normalise_audience,
    normalise_district,
    normalise_language,
    parse_coordinate,
    parse_date,
    parse_link,
    parse_time,
    require,
    text,
    unique,
)
from knowledge.importers.reasons import Reason, reason
from knowledge.importers.recurrence import (
    days_by_week_of_month,
    describe_pattern,
    month_days,
    months_of_year,
    yearly_pattern,
)
from knowledge.importers.rejections import Notice
from knowledge.importers.text_files import (
    UndecodableText,
    decode_text,
    reading_notices,
    sniff_delimiter,
)

# Columns without which a table cannot be read at all (the package is then refused as a whole).
REQUIRED_COLUMNS = {
    "services.csv": ("id", "name"),
    "organizations.csv": ("id",),
    "locations.csv": ("id",),
    "service_at_location.csv": ("service_id", "location_id"),
}


@dataclass
class _Row:
    file: str
    number: int  # spreadsheet row: the header is row 1
    values: dict[str, str]

    def get(self, key: str) -> str:
        return text(self.values.get(key))

    def rejections(self, error: RowError) -> list[Rejection]:
        return [
            Rejection(
                self.file, f"row {self.number}", one.field, one.message, one.value, one.expected
            )
            for one in error.all()
        ]


def parse_hsds_package(
    folder: Path, *, source: str, reading: CsvReading | None = None
) -> ParsedFile:
    """Parse an HSDS package folder into courses; every bad field of every row is reported,
    the services they belong to are left out, and the rest imports. Each table's encoding is
    `reading`'s or detected as a CSV file's is; a table that cannot be decoded refuses the
    package naming its byte and line."""
    parsed = ParsedFile(source=source)
    tables = _Tables(folder, reading.text_encoding if reading else None)
    services = tables.read("services.csv")
    parsed.notices.extend(tables.notices)
    if tables.unreadable:
        parsed.rejected.extend(tables.unreadable)
        parsed.readable = False
        return parsed
    if _refuse_missing_columns(tables, parsed):
        return parsed
    for service in services:
        if service.get("id"):
            parsed.listed_ids.add(service.get("id"))
    for service in services:
        items, rejections = _items_of(service, tables, source, parsed)
        for rejection in rejections:
            if rejection not in parsed.rejected:  # a shared location is reported once
                parsed.rejected.append(rejection)
        for position, item in items:
            parsed.add(item, position, service.file)
    return parsed


def _refuse_missing_columns(tables: _Tables, parsed: ParsedFile) -> bool:
    """Report every required column missing from any table's header; True when one is."""
    for name, columns in REQUIRED_COLUMNS.items():
        header = tables.headers.get(name)
        if header is None:
            continue
        for column in columns:
            if column not in header:
                parsed.reject(
                    name,
                    "row 1",
                    column,
                    reason("column_missing"),
                    expected=reason("expect_header", columns=", ".join(columns)),
                )
    if parsed.rejected:
        parsed.readable = False
    return bool(parsed.rejected)


class _Tables:
    """The package's CSV files, read once and indexed by the ids that link them."""

    def __init__(self, folder: Path, encoding: str | None = None) -> None:
        self.folder = folder
        self.encoding = encoding
        self.headers: dict[str, list[str]] = {}
        self.notices: list[Notice] = []
        self.unreadable: list[Rejection] = []
        self.organizations = {row.get("id"): row for row in self.read("organizations.csv")}
        self.locations = {row.get("id"): row for row in self.read("locations.csv")}
        self.at_location = _group(self.read("service_at_location.csv"), "service_id")
        self.addresses = _group(self.read("physical_addresses.csv", "addresses.csv"), "location_id")
        self.schedules = self.read("schedules.csv", "regular_schedules.csv")
        self.languages = self.read("languages.csv")
        self.eligibility = _group(self.read("eligibility.csv"), "service_id")
        self.costs = _group(self.read("cost_options.csv"), "service_id")
        self.accessibility = _group(
            self.read("accessibility_for_disabilities.csv", "accessibility.csv"), "location_id"
        )
        terms = {
            row.get("id"): row.get("name") or row.get("term")
            for row in self.read("taxonomy_terms.csv")
        }
        self.topics: dict[str, list[str]] = defaultdict(list)
        for row in self.read("service_attributes.csv", "attributes.csv"):
            service_id = row.get("service_id") or (
                row.get("link_id") if row.get("link_entity") in ("", "service") else ""
            )
            term = terms.get(row.get("taxonomy_term_id")) or row.get("taxonomy_detail")
            if service_id and term:
                self.topics[service_id].append(term)

    def read(self, *names: str) -> list[_Row]:
        """Rows of the first of `names` present in the package (none when absent)."""
        for name in names:
            path = self.folder / name
            if path.is_file():
                return self._rows(path)
        return []

    def _rows(self, path: Path) -> list[_Row]:
        name = path.name
        try:
            data = path.read_bytes()
            content, encoding = decode_text(data, self.encoding)
        except OSError as error:
            self._refuse(name, reason("unreadable_file", detail=error))
            return []
        except UndecodableText as error:
            self._refuse(name, error.reason)
            return []
        delimiter = sniff_delimiter(content)
        self.notices += reading_notices(
            name, data, encoding, named=bool(self.encoding), delimiter=delimiter
        )
        reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
        reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
        self.headers[name] = list(reader.fieldnames)
        return [_Row(name, index + 2, row) for index, row in enumerate(reader)]

    def _refuse(self, name: str, why: Reason) -> None:
        rejection = Rejection(name, "file", "(file)", why)
        if rejection not in self.unreadable:
            self.unreadable.append(rejection)


def _group(rows: list[_Row], key: str) -> dict[str, list[_Row]]:
    grouped: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[row.get(key)].append(row)
    return grouped


def _items_of(
    service: _Row, tables: _Tables, source: str, parsed: ParsedFile
) -> tuple[list[tuple[str, CatalogItem]], list[Rejection]]:
    """The service's items (one per location), or every problem that keeps them out."""
    service_id = service.get("id")
    problems = RowProblems()
    for column in ("id", "name"):
        problems.check(require, service.get(column), column)
    rejections: list[Rejection] = []
    base = _service_fields(service, tables, problems, rejections)
    if problems.errors:
        rejections[:0] = service.rejections(RowErrors(problems.errors))
    service_rejected = bool(rejections)  # its own row, or the organization link it would use
    position = f"row {service.number}"
    links = tables.at_location.get(service_id, [])
    if not links:
        sessions = _sessions(tables, service_id, "", "", rejections)
        if rejections:
            return [], rejections
        return [(position, _item(service_id, base, {}, sessions, source))], []
    items = []
    for link in links:
        location_id = link.get("location_id")
        item_id = service_id if len(links) == 1 else f"{service_id}@{location_id}"
        parsed.listed_ids.add(item_id)
        link_rejections: list[Rejection] = []
        if location_id not in tables.locations:
            link_rejections += link.rejections(
                RowError(
                    "location_id",
                    reason("unknown_location", value=location_id),
                    value=location_id,
                    expected=reason("expect_location_id"),
                )
            )
            place: dict[str, Any] = {}
        else:
            place = _place(tables.locations[location_id], tables, link_rejections)
        sessions = _sessions(tables, service_id, location_id, link.get("id"), link_rejections)
        rejections += [r for r in link_rejections if r not in rejections]
        if not link_rejections:
            extra = {"hsds_location_id": location_id}
            items.append(
                (position, _item(item_id, base, place | {"extra": extra}, sessions, source))
            )
    return ([] if service_rejected else items), rejections


def _service_fields(
    service: _Row, tables: _Tables, problems: RowProblems, rejections: list[Rejection]
) -> dict[str, Any]:
    service_id = service.get("id")
    organization = tables.organizations.get(service.get("organization_id"))
    costs = tables.costs.get(service_id, [])
    price = service.get("fees") or service.get("fees_description")
    if not price and costs:
        cost = costs[0]
        price = " ".join(p for p in (cost.get("amount"), cost.get("currency")) if p) or cost.get(
            "option"
        )
    languages = [
        row.get("code") or row.get("language") or row.get("name")
        for row in tables.languages
        if row.get("service_id") == service_id
    ]
    url = problems.check(parse_link, service.get("url"), "url", default="")
    if not service.get("url") and organization is not None:
        column = "url" if organization.get("url") else "website"
        try:
            url = parse_link(organization.get(column), column)
        except RowError as error:
            rejections.extend(organization.rejections(error))
    return {
        "name": service.get("name"),
        "description": service.get("description"),
        "organizer": organization.get("name") if organization else "",
        "url": url,
        "price": price,
        "free": free_from_price(price),
        "languages": unique(normalise_language(language) for language in languages),
        "audiences": unique(
            normalise_audience(part.strip())
            for row in tables.eligibility.get(service_id, [])
            for part in (row.get("eligibility") or row.get("description")).split(",")
        ),
        "topics": unique(tables.topics.get(service_id, [])),
        "extra": {"hsds_service_id": service_id},
    }


def _place(location: _Row, tables: _Tables, rejections: list[Rejection]) -> dict[str, Any]:
    problems = RowProblems()
    latitude = problems.check(parse_coordinate, location.get("latitude"), "latitude", 90)
    longitude = problems.check(parse_coordinate, location.get("longitude"), "longitude", 180)
    if problems.errors:
        rejections.extend(location.rejections(RowErrors(problems.errors)))
    addresses = tables.addresses.get(location.get("id"), [])
    physical = [a for a in addresses if a.get("address_type") in ("", "physical")] or addresses
    address = physical[0] if physical else None
    parts = ("address_1", "address_2", "city", "region", "state_province")
    return {
        "place_name": location.get("name"),
        "address": ", ".join(address.get(p) for p in parts if address.get(p)) if address else "",
        "district": normalise_district(address.get("region"), address.get("city"))
        if address
        else "",
        "latitude": latitude,
        "longitude": longitude,
        "accessibility": unique(
            normalise_accessibility(row.get("accessibility") or row.get("description"))
            for row in tables.accessibility.get(location.get("id"), [])
        ),
    }


def _sessions(
    tables: _Tables, service_id: str, location_id: str, link_id: str, rejections: list[Rejection]
) -> tuple[Session, ...]:
    sessions = []
    for row in tables.schedules:
        if not _schedule_applies(row, service_id, location_id, link_id):
            continue
        problems = RowProblems()
        frequency = text(row.get("freq")).upper()
        groups = problems.check(
            days_by_week_of_month, row.get("byday") or row.get("weekday"), "byday", default=[]
        )
        on_days = problems.check(month_days, row.get("bymonthday"), "bymonthday", default=())
        interval = problems.check(_interval, row.get("interval"), default=1)
        opens = problems.check(parse_time, row.get("opens_at"), "opens_at")
        closes = problems.check(parse_time, row.get("closes_at"), "closes_at")
        start_date = problems.check(
            parse_date, row.get("valid_from") or row.get("dtstart"), "valid_from"
        )
        end_date = problems.check(parse_date, row.get("valid_to") or row.get("until"), "valid_to")
        if problems.errors:
            rejections.extend(row.rejections(RowErrors(problems.errors)))
            continue
        months: tuple[int, ...] = ()
        if frequency == "YEARLY":  # in `bymonth`'s months, else valid_from's (yearly_pattern)
            named = problems.check(months_of_year, row.get("bymonth"), "bymonth", default=())
            first = date.fromisoformat(start_date) if start_date else None
            months, on_days = problems.check(
                yearly_pattern, named, groups, on_days, first, "freq", default=((), on_days)
            )
            if problems.errors:
                rejections.extend(row.rejections(RowErrors(problems.errors)))
                continue
        elif frequency != "MONTHLY":  # "2MO" is the second Monday of a month in a monthly rule
            groups, on_days = [(days, ()) for days, _weeks in groups], ()
        for days, weeks in groups or [((), ())]:
            pattern = describe_pattern(
                describe_schedule(days, opens, closes),
                weeks,
                on_days,
                interval,
                frequency.lower(),
                months,
            )
            sessions.append(
                Session(
                    row.get("description") or pattern,
                    days,
                    opens,
                    closes,
                    start_date,
                    end_date,
                    weeks_of_month=weeks,
                    month_days=on_days,
                    interval=interval
                    if frequency in {"WEEKLY", "MONTHLY"} or (frequency == "YEARLY" and months)
                    else 1,
                    months=months,
                )
            )
    return tuple(sessions)


def _interval(value: object) -> int:
    """HSDS `interval`: every n weeks or months (empty: 1)."""
    raw = text(value)
    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise RowError(
            "interval",
            reason("not_an_interval", value=raw),
            value=raw,
            expected=reason("expect_interval"),
        )
    return int(raw)


def _schedule_applies(row: _Row, service_id: str, location_id: str, link_id: str) -> bool:
    """A schedule names its service at location, or its service (and maybe location)."""
    if row.get("service_at_location_id"):
        return row.get("service_at_location_id") == link_id
    return row.get("service_id") == service_id and row.get("location_id") in ("", location_id)


def _item(
    item_id: str,
    base: dict[str, Any],
    place: dict[str, Any],
    sessions: tuple[Session, ...],
    source: str,
) -> CatalogItem:
    extra = base["extra"] | place.pop("extra", {})
    fields = {key: value for key, value in base.items() if key != "extra"} | place
    return CatalogItem(
        id=item_id, type="course", source=source, sessions=sessions, extra=extra, **fields
    )
