"""Catalog importers, one module per format, and the dispatcher that picks one for a path.

Formats: schema.org JSON-LD (`.jsonld`, `.json`), Open Referral HSDS tabular packages (a folder
with `services.csv`), iCalendar (`.ics`, `.ical`) and the plain learncity CSV (`.csv`).
See docs/catalog-formats.md.
"""

from __future__ import annotations

import logging
from pathlib import Path

from knowledge.importers.common import ParsedFile, Rejection
from knowledge.importers.reasons import reason

logger = logging.getLogger(__name__)

CATALOG_SUFFIXES = {".jsonld", ".json", ".ics", ".ical", ".ifb", ".csv"}


def source_name(path: Path) -> str:
    """A file's source name: its folder and name, stable wherever the folder is copied."""
    resolved = path.resolve()
    return f"{resolved.parent.name}/{resolved.name}"


def is_hsds_package(folder: Path) -> bool:
    """An HSDS tabular package: services.csv next to organizations.csv or service_at_location.csv."""
    return (folder / "services.csv").is_file() and (
        (folder / "organizations.csv").is_file() or (folder / "service_at_location.csv").is_file()
    )


def read_catalog(path: Path) -> list[ParsedFile]:
    """Parse a file, an HSDS package, or every catalog file (and HSDS package) in a folder."""
    if path.is_dir():
        if is_hsds_package(path):
            return [_read_hsds(path)]
        parsed: list[ParsedFile] = []
        for child in sorted(path.iterdir()):
            if child.name.startswith((".", "_")):
                continue
            if child.is_dir() and is_hsds_package(child):
                parsed.append(_read_hsds(child))
            elif child.is_file() and child.suffix.lower() in CATALOG_SUFFIXES:
                parsed.append(read_file(child))
            else:
                logger.debug("not a catalog file, skipped: %s", child)
        return parsed
    return [read_file(path)]


def read_file(path: Path) -> ParsedFile:
    """Parse one catalog file, choosing the format by extension, then by content."""
    source = source_name(path)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        return _unreadable(path, source, reason("not_utf8", detail=error))
    kind = _kind(path, content)
    if kind == "jsonld":
        from knowledge.importers.jsonld import parse_jsonld

        return parse_jsonld(content, file=path.name, source=source)
    if kind == "ics":
        from knowledge.importers.ical import parse_ical

        return parse_ical(content, file=path.name, source=source)
    if kind == "csv":
        from knowledge.importers.plain_csv import parse_plain_csv

        return parse_plain_csv(content, file=path.name, source=source)
    return _unreadable(
        path,
        source,
        reason("unknown_format"),
    )


def _read_hsds(folder: Path) -> ParsedFile:
    from knowledge.importers.hsds import parse_hsds_package

    return parse_hsds_package(folder, source=source_name(folder))


def _kind(path: Path, content: str) -> str | None:
    suffix = path.suffix.lower()
    if suffix in {".jsonld", ".json"}:
        return "jsonld"
    if suffix in {".ics", ".ical", ".ifb"}:
        return "ics"
    if suffix == ".csv":
        return "csv"
    start = content.lstrip()[:200]
    if start.startswith(("{", "[")):
        return "jsonld"
    if start.upper().startswith("BEGIN:VCALENDAR"):
        return "ics"
    header = (
        {column.strip().lower() for column in start.splitlines()[0].split(",")} if start else set()
    )
    if {"id", "type", "name"} <= header:
        return "csv"
    return None


def _unreadable(path: Path, source: str, message: str) -> ParsedFile:
    parsed = ParsedFile(source=source, readable=False)
    parsed.rejected.append(Rejection(path.name, "file", "(file)", message))
    return parsed


__all__ = ["ParsedFile", "Rejection", "read_catalog", "read_file", "source_name"]
