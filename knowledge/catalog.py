"""The catalog's storage interface: other packages read and write catalog items only through here."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, func, insert, select
from sqlalchemy.orm import Session as DbSession

from core.database import created_within
from core.grouped_counts import (
    as_date,
    citizens_gathered_by,
    counted_citizens,
    grouped_counts_by,
    iso_week,
    merged,
    utc_day,
    weekly,
)
from knowledge.documents import CatalogItem, Session
from knowledge.importers.common import RowError, parse_link
from knowledge.models import CatalogRecord, UnmetDemandRecord

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_CHUNK = 500  # ids per SELECT ... IN, and how often progress is reported


@dataclass
class UpsertCounts:
    """What `upsert_items` did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0


_RECURRENCE_DEFAULTS = {
    "weeks_of_month": (),
    "month_days": (),
    "interval": 1,
    "except_dates": (),
    "months": (),
}
_KEEP = object()  # no default: always hashed


_ITEM_FIELDS = tuple(f.name for f in fields(CatalogItem))
_SESSION_FIELDS = tuple(f.name for f in fields(Session))


def content_hash(item: CatalogItem) -> str:
    """A fingerprint of everything an item says, so a re-import can tell unchanged items apart.

    The JSON hashed is what `dataclasses.asdict(item)` gives (keys sorted), built field by
    field: an item's values are strings, numbers, None and tuples of them, which need no copy,
    and `asdict`'s deep copies were a third of the CPU an import spent storing an item."""
    data = {name: getattr(item, name) for name in _ITEM_FIELDS}
    data["extra"] = dict(sorted(item.extra.items()))
    # Recurrence fields left at their defaults are left out, so items imported before they
    # existed keep their hash (a re-import does not count them all as updated).
    data["sessions"] = [
        {
            name: value
            for name in _SESSION_FIELDS
            if (value := getattr(session, name)) != _RECURRENCE_DEFAULTS.get(name, _KEEP)
        }
        for session in item.sessions
    ]
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def upsert_items(
    session: DbSession,
    items: Iterable[CatalogItem],
    source: str,
    *,
    progress: Progress | None = None,
) -> UpsertCounts:
    """Insert new items and update changed ones, keyed by id; the caller commits.

    An id is unique across the catalog: an item listed by another source moves to `source`.
    When `items` repeats an id, the last one wins.
    """
    by_id = {item.id: replace(item, source=source) for item in items}
    ids = list(by_id)
    counts = UpsertCounts()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(CatalogRecord.id, CatalogRecord.content_hash).where(
            CatalogRecord.id.in_(chunk)
        )
        stored_hashes = {item_id: digest for item_id, digest in session.execute(query)}
        new_rows: list[dict[str, Any]] = []
        changed: dict[str, tuple[CatalogItem, str]] = {}
        for item_id in chunk:
            item = by_id[item_id]
            digest = content_hash(item)
            if item_id not in stored_hashes:
                new_rows.append({"id": item_id, **_columns(item), "content_hash": digest})
            elif stored_hashes[item_id] == digest:
                counts.unchanged += 1
            else:
                changed[item_id] = (item, digest)
        if new_rows:
            session.execute(insert(CatalogRecord), new_rows)
            counts.added += len(new_rows)
        if changed:
            records = session.scalars(select(CatalogRecord).where(CatalogRecord.id.in_(changed)))
            for record in records:
                item, digest = changed[record.id]
                for column, value in _columns(item).items():
                    setattr(record, column, value)
                record.content_hash = digest
                counts.updated += 1
        session.flush()
        if progress is not None:
            progress(min(start + _CHUNK, len(ids)), len(ids))
    return counts


def remove_items_not_listed(session: DbSession, source: str, listed_ids: set[str]) -> int:
    """Delete the items of `source` whose ids are not in `listed_ids` (import with prune)."""
    stored = session.scalars(select(CatalogRecord.id).where(CatalogRecord.source == source)).all()
    gone = [item_id for item_id in stored if item_id not in listed_ids]
    for start in range(0, len(gone), _CHUNK):
        chunk = gone[start : start + _CHUNK]
        session.execute(delete(CatalogRecord).where(CatalogRecord.id.in_(chunk)))
    return len(gone)


def all_items(session: DbSession) -> list[CatalogItem]:
    """Every catalog item, ordered by type then id (stable for index builds)."""
    records = session.scalars(select(CatalogRecord).order_by(CatalogRecord.type, CatalogRecord.id))
    return [_to_item(record) for record in records]


def get_item(session: DbSession, item_id: str) -> CatalogItem | None:
    record = session.get(CatalogRecord, item_id)
    return _to_item(record) if record is not None else None


def items_by_ids(session: DbSession, ids: Sequence[str]) -> list[CatalogItem]:
    """The items for `ids` in the order given; unknown ids are skipped."""
    found: dict[str, CatalogItem] = {}
    unique_ids = list(dict.fromkeys(ids))
    for start in range(0, len(unique_ids), _CHUNK):
        chunk = unique_ids[start : start + _CHUNK]
        for record in session.scalars(select(CatalogRecord).where(CatalogRecord.id.in_(chunk))):
            found[record.id] = _to_item(record)
    return [found[item_id] for item_id in unique_ids if item_id in found]


def count_items(session: DbSession, type: str | None = None) -> int:  # noqa: A002 - the field's name
    """How many items the catalog holds (of one type: "course", "space", "event")."""
    query = select(func.count()).select_from(CatalogRecord)
    if type is not None:
        query = query.where(CatalogRecord.type == type)
    return int(session.scalar(query) or 0)


def content_hashes(session: DbSession) -> dict[str, str]:
    """Every item's id and content hash (what the search index compares to stay in step)."""
    rows = session.execute(select(CatalogRecord.id, CatalogRecord.content_hash, CatalogRecord.url))
    return {item_id: _served_hash(item_hash, url) for item_id, item_hash, url in rows}


def _served_hash(stored_hash: str, url: str | None) -> str:
    """The hash of the item as it is served. A stored link that is left out when read (see
    `_web_link_or_nothing`) changes it, so an index built while the link was served takes the
    item again, without it."""
    if _is_web_link(url):
        return stored_hash
    return hashlib.sha256(f"{stored_hash}:link left out".encode()).hexdigest()


def catalog_fingerprint(session: DbSession) -> str:
    """A hash of every id and content hash: changes whenever the catalog does."""
    digest = hashlib.sha256()
    rows = session.execute(
        select(CatalogRecord.id, CatalogRecord.content_hash).order_by(CatalogRecord.id)
    )
    for item_id, item_hash in rows:
        digest.update(f"{item_id}\t{item_hash}\n".encode())
    return digest.hexdigest()


def record_unmet_demand(
    session: DbSession,
    query: str,
    language: str | None,
    filters: dict[str, Any] | None,
    district: str | None,
    sender_id: str | None = None,
) -> None:
    """Remember that a search found nothing, for planners. `sender_id` is kept only so the
    citizen can see and erase it and open data can count citizens; staff never see it."""
    session.add(
        UnmetDemandRecord(
            sender_id=sender_id or None,
            query=query.strip()[:500],
            language=(language or None),
            filters={
                key: value
                for key, value in (filters or {}).items()
                if value not in (None, "", (), [])
            },
            district=district or None,
        )
    )
    session.flush()


def unmet_demand_summary(
    session: DbSession,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    citizens: bool = False,
) -> dict[str, Any]:
    """Searches that found nothing, counted by query, language, district, filter and week;
    made in [since, until) when given (the staff console's date range). `queries` holds
    [query, language, count] rows (JSON can carry them), for `group_unmet_demand`. With
    `citizens`, each count is of different senders (open data leaves out cells under 5);
    searches recorded before senders were kept count as one sender together."""
    if citizens:
        return unmet_citizens_summary(session, since, until)[0]
    # Counted in SQL (core.grouped_counts; one scan on PostgreSQL), not row by row in Python.
    created = UnmetDemandRecord.created_at
    rows = grouped_counts_by(
        session,
        {
            "query": (UnmetDemandRecord.query, UnmetDemandRecord.language),
            "district": UnmetDemandRecord.district,
            # JSON has no equality on PostgreSQL: grouped as its text.
            "filters": cast(UnmetDemandRecord.filters, Text),
            "day": utc_day(session, created),
        },
        created,
        since,
        until,
    )
    byquery_as_counted = merged(rows["query"], query_as_counted)
    by_query: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    for (query_text, language), n in byquery_as_counted.items():  # type: ignore[misc]
        by_query[query_text] += n
        by_language[language] += n
    by_filter: Counter[str] = Counter()
    for value, n in rows["filters"]:
        for wish in _filter_wishes(value):
            by_filter[wish] += n
    return {
        "total": sum(by_language.values()),
        "by_query": dict(by_query.most_common()),
        "queries": [[text, language, n] for (text, language), n in byquery_as_counted.items()],
        "by_language": dict(by_language.most_common()),
        "by_district": merged(rows["district"], lambda v: v or "unknown"),
        "by_filter": dict(by_filter.most_common()),
        "by_week": weekly(rows["day"]),
    }


def unmet_citizens_summary(
    session: DbSession, since: datetime | None, until: datetime | None
) -> tuple[dict[str, Any], dict[Any, set[Any]]]:
    """`unmet_demand_summary(..., citizens=True)`, and the senders of each query as counted,
    gathered by the same read, for `citizens_per_group` (open data's groups; never shown)."""
    created, who = UnmetDemandRecord.created_at, UnmetDemandRecord.sender_id
    pair = (UnmetDemandRecord.query, UnmetDemandRecord.language)
    gathered = citizens_gathered_by(
        session,
        {
            "queries": (pair, lambda value: [query_as_counted(value)]),
            "by_query": (pair, lambda value: [query_as_counted(value)[0]]),
            "by_language": (UnmetDemandRecord.language, lambda value: [value or "unknown"]),
            "by_district": (UnmetDemandRecord.district, lambda value: [value or "unknown"]),
            "by_filter": (cast(UnmetDemandRecord.filters, Text), _filter_wishes),
            "by_week": (utc_day(session, created), lambda day: [iso_week(as_date(day))]),
        },
        created,
        since,
        until,
        who,
    )
    counted = counted_citizens(gathered)
    total_query = created_within(select(func.count(func.distinct(who))), created, since, until)
    total = int(session.execute(total_query).scalar_one())
    anonymous = created_within(select(func.count()).where(who.is_(None)), created, since, until)
    total += 1 if session.execute(anonymous).scalar_one() else 0
    queries = counted.pop("queries")
    summary = {
        "total": total,
        "queries": [[text, language, n] for (text, language), n in queries.items()],  # type: ignore[misc]
        **counted,
        "by_week": dict(sorted(counted["by_week"].items())),  # type: ignore[type-var]
    }
    return summary, gathered["queries"]


def query_as_counted(pair: Any) -> tuple[str, str]:
    """A query as planners count it: case and spaces folded; no language is "unknown"."""
    return " ".join(str(pair[0]).lower().split()), pair[1] or "unknown"


def _filter_wishes(filters: Any) -> list[str]:
    """What a search narrowed to, as planners read it: "time_of_day: weekend", "free_only"."""
    if isinstance(filters, str):
        try:
            filters = json.loads(filters)
        except ValueError:
            return []
    if not isinstance(filters, dict):
        return []
    wishes = []
    for key, value in sorted(filters.items()):
        if key == "types" or value in (None, False, "", [], ()):
            continue
        wishes.append(key if value is True else f"{key}: {value}")
    return wishes


def _columns(item: CatalogItem) -> dict[str, Any]:
    return {
        "source": item.source,
        "type": item.type,
        "name": item.name,
        "description": item.description,
        "topics": list(item.topics),
        "languages": list(item.languages),
        "audiences": list(item.audiences),
        "free": item.free,
        "price": item.price,
        "place_name": item.place_name,
        "address": item.address,
        "district": item.district,
        "latitude": item.latitude,
        "longitude": item.longitude,
        "sessions": [_session_values(s) | {"days": list(s.days)} for s in item.sessions],
        "opening_hours": item.opening_hours,
        "amenities": list(item.amenities),
        "accessibility": list(item.accessibility),
        "starts_at": item.start,
        "ends_at": item.end,
        "url": item.url,
        "organizer": item.organizer,
        "extra": dict(item.extra),
    }


def _session_values(session: Session) -> dict[str, Any]:
    """`dataclasses.asdict(session)` without its deep copies (a session's values are
    strings, numbers, None and tuples of them)."""
    return {name: getattr(session, name) for name in _SESSION_FIELDS}


def _to_item(record: CatalogRecord) -> CatalogItem:
    return CatalogItem(
        id=record.id,
        type=record.type,  # type: ignore[arg-type]
        name=record.name,
        description=record.description or "",
        source=record.source,
        topics=tuple(record.topics or ()),
        languages=tuple(record.languages or ()),
        audiences=tuple(record.audiences or ()),
        free=record.free,
        price=record.price or "",
        place_name=record.place_name or "",
        address=record.address or "",
        district=record.district or "",
        latitude=record.latitude,
        longitude=record.longitude,
        sessions=tuple(
            Session(**(stored | {"days": tuple(stored.get("days") or ())}))
            for stored in record.sessions or ()
        ),
        opening_hours=record.opening_hours or "",
        amenities=tuple(record.amenities or ()),
        accessibility=tuple(record.accessibility or ()),
        start=record.starts_at,
        end=record.ends_at,
        url=_web_link_or_nothing(record.url),
        organizer=record.organizer or "",
        extra=dict(record.extra or {}),
    )


def _web_link_or_nothing(url: str | None) -> str:
    """A stored link only if it is an http(s) address. Importers refuse other schemes; this
    also keeps a `javascript:` link stored before they did from ever reaching a citizen."""
    if _is_web_link(url):
        return (url or "").strip()
    logger.warning("catalog: a stored link that is not http(s) was left out: %.80r", url)
    return ""


def _is_web_link(url: str | None) -> bool:
    """True for no link at all or an http(s) address."""
    try:
        parse_link(url, "url")
    except RowError:
        return False
    return True
