"""Importing catalog files: read them, reject what is wrong, upsert the rest (or only check).

Storage itself (upsert, prune, reads) is `knowledge/catalog.py`; reading each format is
`knowledge/importers/`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from knowledge.catalog import Progress, get_item, remove_items_not_listed, upsert_items
from knowledge.documents import CatalogItem
from knowledge.importers import CsvReading, read_catalog
from knowledge.importers.common import ParsedFile, Rejection, RowError
from knowledge.importers.plain_csv import item_from_row
from knowledge.importers.reasons import reason
from knowledge.importers.rejections import Notice
from knowledge.models import CatalogImportRecord

logger = logging.getLogger(__name__)


@dataclass
class ImportSummary:
    """What `import_catalog` did (or, in a dry run, would do), and every field it rejected."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    valid: int = 0  # items that passed every check (imported unless dry_run)
    rejected: list[Rejection] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    dry_run: bool = False
    # CSV files: how each header column was understood, and headers left unguessed.
    columns: dict[str, list[Any]] = field(default_factory=dict)
    # What was decided without refusing (guessed encoding or delimiter, skipped rows, ...).
    notices: list[Notice] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        """Rows or objects rejected (a row with three bad fields counts once)."""
        return len({(r.file, r.position) for r in self.rejected})

    @property
    def complete(self) -> bool:
        """True when nothing was rejected: the command then exits 0."""
        return not self.rejected

    def __str__(self) -> str:
        files = f"{len(self.sources)} file" + ("" if len(self.sources) == 1 else "s")
        problems = f"{self.rejected_rows} rejected"
        if len(self.rejected) > self.rejected_rows:
            problems += f" ({len(self.rejected)} bad fields)"
        if self.dry_run:
            return f"dry run, nothing changed: {files}: {self.valid} valid, {problems}"
        return (
            f"{files}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {problems}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary for `learncity catalog import --json`."""
        return {
            "dry_run": self.dry_run,
            "sources": list(self.sources),
            "valid": self.valid,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rejected_rows": self.rejected_rows,
            "rejected": [rejection.as_dict() for rejection in self.rejected],
            "columns": {
                source: [use.as_dict() for use in uses] for source, uses in self.columns.items()
            },
            "notices": [notice.as_dict() for notice in self.notices],
        }


def import_catalog(
    path: str | Path,
    *,
    session: DbSession | None,
    prune: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    actor: str = "",
    reading: CsvReading | None = None,
) -> ImportSummary:
    """Import a catalog file, an HSDS package folder, or every catalog file in a folder.

    Items are upserted by their source's own id; every bad field of a malformed row is
    rejected (see `ImportSummary.rejected`) and the other rows still import. With `prune`,
    items of the same source no longer listed are removed (never for a file that could not be
    read at all). With `dry_run` the files are only checked: the database (`session` may be
    None) is not touched. The caller commits. `progress(done, total)` is called every few
    hundred items. An import that writes is kept in the import history under `actor`.
    `reading` (a column map, an encoding, a date order) says how to read a city's own CSV.
    """
    parsed_files = read_catalog(Path(path), reading)
    summary = ImportSummary(dry_run=dry_run)
    _reject_ids_listed_by_two_files(parsed_files)
    for parsed in parsed_files:
        summary.sources.append(parsed.source)
        summary.rejected.extend(parsed.rejected)
        summary.valid += len(parsed.items)
        if parsed.columns:
            summary.columns[parsed.source] = list(parsed.columns)
        summary.notices.extend(parsed.notices)
    if dry_run:
        logger.debug("catalog check of %s: %s", path, summary)
        return summary
    if session is None:
        raise ValueError("import_catalog needs a session unless dry_run")
    total = summary.valid
    done = 0
    if progress is not None:
        progress(0, total)
    for parsed in parsed_files:
        offset = done
        counts = upsert_items(
            session,
            parsed.items,
            parsed.source,
            progress=(lambda d, _t, offset=offset: progress(offset + d, total))
            if progress
            else None,
        )
        done += len(parsed.items)
        summary.added += counts.added
        summary.updated += counts.updated
        summary.unchanged += counts.unchanged
        if prune and parsed.readable:
            summary.removed += remove_items_not_listed(session, parsed.source, parsed.listed_ids)
    session.add(
        CatalogImportRecord(
            actor=actor[:120],
            sources=list(summary.sources),
            added=summary.added,
            updated=summary.updated,
            unchanged=summary.unchanged,
            removed=summary.removed,
            rejected_rows=summary.rejected_rows,
        )
    )
    session.flush()
    logger.info("catalog import from %s: %s", path, summary)
    return summary


@dataclass(frozen=True)
class ImportRecord:
    """One import in the history, newest first from `import_history`."""

    at: datetime
    actor: str
    sources: list[str]
    added: int
    updated: int
    unchanged: int
    removed: int
    rejected_rows: int


def import_history(session: DbSession, limit: int = 100) -> list[ImportRecord]:
    """The latest imports that wrote to the catalog, newest first."""
    records = session.scalars(
        select(CatalogImportRecord)
        .order_by(CatalogImportRecord.at.desc(), CatalogImportRecord.id.desc())
        .limit(limit)
    )
    return [
        ImportRecord(
            at=record.at,
            actor=record.actor,
            sources=list(record.sources or []),
            added=record.added,
            updated=record.updated,
            unchanged=record.unchanged,
            removed=record.removed,
            rejected_rows=record.rejected_rows,
        )
        for record in records
    ]


# What an editor may change in the console; sessions (several per item in HSDS or schema.org)
# and the id, type and source stay as imported.
EDITABLE_FIELDS = (
    "name", "description", "topics", "languages", "audiences", "free", "price", "place_name",
    "address", "district", "latitude", "longitude", "opening_hours", "start", "end", "url",
    "organizer",
)  # fmt: skip
_LIST_FIELDS = ("topics", "languages", "audiences", "amenities", "accessibility")


class ItemNotFound(KeyError):
    """No catalog item has this id."""


class ItemEditRejected(ValueError):
    """The edited values have bad fields; `rejections` names each one (as an import would)."""

    def __init__(self, rejections: list[Rejection]) -> None:
        super().__init__("; ".join(str(rejection) for rejection in rejections))
        self.rejections = rejections


def editable_values(item: CatalogItem) -> dict[str, str]:
    """The item's editable fields as the form (and the plain CSV format) writes them."""
    values: dict[str, str] = {}
    for name in EDITABLE_FIELDS:
        value = getattr(item, name)
        if name in _LIST_FIELDS:
            values[name] = " | ".join(value)
        elif name == "free":
            values[name] = "" if value is None else ("yes" if value else "no")
        else:
            values[name] = "" if value is None else str(value)
    return values


def edit_item(session: DbSession, item_id: str, changes: dict[str, str]) -> CatalogItem:
    """Change an item's editable fields, checked as an imported CSV row is; the caller commits
    and then brings the search index up to date (`ensure_index_from_database`). Raises
    ItemNotFound, or ItemEditRejected naming every bad field."""
    current = get_item(session, item_id)
    if current is None:
        raise ItemNotFound(item_id)
    row: dict[str, str | None] = dict(current.extra)
    row |= {"id": current.id, "type": current.type, "amenities": " | ".join(current.amenities)}
    row |= {"accessibility": " | ".join(current.accessibility)}
    row |= editable_values(current)
    row |= {name: str(value) for name, value in changes.items() if name in EDITABLE_FIELDS}
    try:
        edited = item_from_row(row, current.source)
    except RowError as error:
        raise ItemEditRejected(
            [
                Rejection(
                    "(console)", current.id, e.field, e.message, value=e.value, expected=e.expected
                )
                for e in error.all()
            ]
        ) from error
    edited = replace(edited, sessions=current.sessions, extra=dict(current.extra))
    upsert_items(session, [edited], current.source)
    session.flush()
    return edited


def _reject_ids_listed_by_two_files(parsed_files: list[ParsedFile]) -> None:
    """An id belongs to one source: a later file listing it again has that row rejected."""
    first_seen: dict[str, str] = {}
    for parsed in parsed_files:
        kept = []
        for item in parsed.items:
            if item.id in first_seen and first_seen[item.id] != parsed.source:
                parsed.reject(
                    parsed.source.rsplit("/", 1)[-1],
                    parsed.positions.get(item.id, "item"),
                    "id",
                    reason("duplicate_in_other_file", value=item.id, source=first_seen[item.id]),
                    value=item.id,
                    expected=reason("expect_id_in_one_file"),
                )
                continue
            first_seen[item.id] = parsed.source
            kept.append(item)
        parsed.items = kept
