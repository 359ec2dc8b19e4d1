"""Catalog importers, one module per format, and the dispatcher that picks one for a path.

Formats: schema.org JSON-LD (`.jsonld`, `.json`), Open Referral HSDS tabular packages (a folder
with `services.csv`), iCalendar (`.ics`, `.ical`), the plain learncity CSV (`.csv`) and Excel
(`.xlsx`). Every text file is decoded alike (text_files.py: BOM, UTF-8, GB18030,
Windows-1251/1252, or `--encoding`).
See docs/catalog-formats.md.
"""

from __future__ import annotations

import logging
from pathlib import Path

from knowledge.importers.columns import (
    ColumnMap,
    ColumnMapError,
    CsvReading,
    load_column_map,
    plan_columns,
)
from knowledge.importers.common import ParsedFile, Rejection
from knowledge.importers.reasons import reason
from knowledge.importers.text_files import (
    UndecodableText,
    binary_kind,
    decode_text,
    excel_separator,
    reading_notices,
    sniff_delimiter,
)

logger = logging.getLogger(__name__)

CATALOG_SUFFIXES = {".jsonld", ".json", ".ics", ".ical", ".ifb", ".csv", ".tsv", ".xlsx"}


def source_name(path: Path) -> str:
    """A file's source name: its folder and name, stable wherever the folder is copied."""
    resolved = path.resolve()
    return f"{resolved.parent.name}/{resolved.name}"


def is_hsds_package(folder: Path) -> bool:
    """An HSDS tabular package: services.csv next to organizations.csv or service_at_location.csv."""
    return (folder / "services.csv").is_file() and (
        (folder / "organizations.csv").is_file() or (folder / "service_at_location.csv").is_file()
    )


def read_catalog(path: Path, reading: CsvReading | None = None) -> list[ParsedFile]:
    """Parse a file, an HSDS package, or every catalog file (and HSDS package) in a folder;
    `reading` says how to read CSV files written with a city's own columns or encoding."""
    if path.is_dir():
        if is_hsds_package(path):
            return [_read_hsds(path, reading)]
        parsed: list[ParsedFile] = []
        for child in sorted(path.iterdir()):
            if child.name.startswith((".", "_", "~$")):  # ~$: Excel's lock file
                continue
            if child.is_dir() and is_hsds_package(child):
                parsed.append(_read_hsds(child, reading))
            elif child.is_file() and child.suffix.lower() in CATALOG_SUFFIXES:
                parsed.append(read_file(child, reading))
            else:
                logger.debug("not a catalog file, skipped: %s", child)
        return parsed
    return [read_file(path, reading)]


def read_file(path: Path, reading: CsvReading | None = None) -> ParsedFile:
    """Parse one catalog file, choosing the format by extension, then by content; its
    encoding is named (`reading`) or detected (text_files.py)."""
    source = source_name(path)
    reading = reading or CsvReading()
    if path.suffix.lower() == ".xlsx":
        from knowledge.importers.spreadsheet import parse_xlsx

        return parse_xlsx(path, source=source, reading=reading)
    try:
        data = path.read_bytes()
        binary = binary_kind(data)
        if binary is not None:  # an .xls, .ods or PDF is no text to guess an encoding for
            return _unreadable(path, source, reason("binary_file", kind=binary))
        content, encoding = decode_text(data, reading.text_encoding)
    except OSError as error:
        return _unreadable(path, source, reason("unreadable_file", detail=error))
    except UndecodableText as error:
        return _unreadable(path, source, error.reason)
    named_delimiter, content = excel_separator(content)
    kind = _kind(path, content, reading)
    delimiter = named_delimiter or (sniff_delimiter(content) if kind == "csv" else None)
    named = bool(reading.text_encoding)
    parsed = _parse(kind, content, path, source, delimiter, reading)
    if parsed is not None:
        guessed = None if named_delimiter else delimiter
        notices = reading_notices(path.name, data, encoding, named=named, delimiter=guessed)
        parsed.notices[:0] = notices
        return parsed
    return _unreadable(
        path,
        source,
        reason("unknown_format"),
    )


def _parse(
    kind: str | None,
    content: str,
    path: Path,
    source: str,
    delimiter: str | None,
    reading: CsvReading,
) -> ParsedFile | None:
    """The file parsed as `kind`; None when it is no format we know."""
    if kind == "jsonld":
        from knowledge.importers.jsonld import parse_jsonld

        return parse_jsonld(content, file=path.name, source=source)
    if kind == "ics":
        from knowledge.importers.ical import parse_ical

        return parse_ical(content, file=path.name, source=source)
    if kind == "csv":
        from knowledge.importers.plain_csv import parse_plain_csv

        return parse_plain_csv(
            content, file=path.name, source=source, delimiter=delimiter or ",", reading=reading
        )
    return None


def _read_hsds(folder: Path, reading: CsvReading | None) -> ParsedFile:
    from knowledge.importers.hsds import parse_hsds_package

    return parse_hsds_package(folder, source=source_name(folder), reading=reading)


def _kind(path: Path, content: str, reading: CsvReading) -> str | None:
    suffix = path.suffix.lower()
    if suffix in {".jsonld", ".json"}:
        return "jsonld"
    if suffix in {".ics", ".ical", ".ifb"}:
        return "ics"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    start = content.lstrip()[:200]
    if start.startswith(("{", "[")):
        return "jsonld"
    if start.upper().startswith("BEGIN:VCALENDAR"):
        return "ics"
    if not start:
        return None
    header = start.splitlines()[0].split(sniff_delimiter(content))
    if {"id", "type", "name"} <= plan_columns(header, reading.columns).given():
        return "csv"
    return None


def _unreadable(path: Path, source: str, message: str) -> ParsedFile:
    parsed = ParsedFile(source=source, readable=False)
    parsed.rejected.append(Rejection(path.name, "file", "(file)", message))
    return parsed


__all__ = [
    "ColumnMap",
    "ColumnMapError",
    "CsvReading",
    "ParsedFile",
    "Rejection",
    "load_column_map",
    "read_catalog",
    "read_file",
    "source_name",
]
