"""Hybrid search over the catalog: dense (embeddings + FAISS), lexical (BM25), filters, nearness.

Other packages call the functions here (re-exported by `knowledge`); the index lives in the
settings' index folder and is shared by every process through it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from core.settings import get_settings
from knowledge.documents import CatalogItem
from knowledge.search.filters import TIMES_OF_DAY, SearchFilters
from knowledge.search.glossary import GlossaryError, get_glossary
from knowledge.search.policy import (
    DATED_KINDS,
    KIND_TYPES,
    NEAR_RADII_M,
    Note,
    SearchAnswer,
    SearchRequest,
    answer_search,
    city_calendar,
)
from knowledge.search.results import IndexSync, SearchResult, is_unmet
from knowledge.search.service import SearchService
from knowledge.search.upcoming import happening_within, still_to_come
from knowledge.search.when import DEFAULT_TIME_ZONE, DateSpan, resolve_when

# "What's on?" looks at this many events passing the filters, then keeps those still to come.
EVENTS_CONSIDERED = 5000

__all__ = [
    "DATED_KINDS",
    "DEFAULT_TIME_ZONE",
    "KIND_TYPES",
    "NEAR_RADII_M",
    "TIMES_OF_DAY",
    "DateSpan",
    "GlossaryError",
    "IndexSync",
    "Note",
    "SearchAnswer",
    "SearchFilters",
    "SearchRequest",
    "SearchResult",
    "SearchService",
    "answer_search",
    "build_index_from_database",
    "city_calendar",
    "ensure_index_from_database",
    "get_glossary",
    "get_search_service",
    "happening_within",
    "is_unmet",
    "names_a_topic",
    "nearby",
    "resolve_when",
    "search",
    "upcoming_events",
]

_services: dict[tuple[Path, str], SearchService] = {}
_services_lock = threading.Lock()


def get_search_service() -> SearchService:
    """The process-wide service for the current settings' index folder and model."""
    settings = get_settings()
    key = (Path(settings.index_dir), settings.embedding_model)
    with _services_lock:
        if key not in _services:
            _services[key] = SearchService(key[0], key[1])
        return _services[key]


def search(
    query: str,
    *,
    limit: int = 5,
    filters: SearchFilters | None = None,
    near: tuple[float, float] | None = None,
    radius_m: float | None = None,
    language: str | None = None,
) -> list[SearchResult]:
    """Courses, spaces and events for a question in any supported language, best first.

    An empty list, or results all flagged `matched=False`, means the catalog has nothing for
    it: check with `is_unmet(results)` and record the unmet demand.
    """
    service = get_search_service()
    if service.generation is None and not service.load():
        ensure_index_from_database()
    return service.search(
        query, limit=limit, filters=filters, near=near, radius_m=radius_m, language=language
    )


def upcoming_events(
    *,
    limit: int = 5,
    filters: SearchFilters | None = None,
    now: datetime | None = None,
    within: DateSpan | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> list[SearchResult]:
    """Events that have not ended, soonest first, among those passing `filters`; with
    `within` (from `resolve_when`), only those held on one of its days in `time_zone`."""
    wanted = replace(filters or SearchFilters(), types=("event",))
    events = still_to_come(search("", limit=EVENTS_CONSIDERED, filters=wanted), now, time_zone)
    if within is not None:
        events = happening_within(events, within, time_zone)
    return events[:limit]


def names_a_topic(text: str, language: str | None = None) -> bool:
    """Whether `text` holds anything search can look for: a word that is not generic ("课",
    "做", "class"), a glossary concept, or a one-character Chinese topic ("画")."""
    from knowledge.search.lexical import query_tokens, single_character_topics

    return bool(
        query_tokens(text, (), 0.0)
        or get_glossary().concepts_in(text, language)
        or single_character_topics(text)
    )


def nearby(
    lat: float,
    lon: float,
    *,
    radius_m: float = 3000,
    query: str | None = None,
    filters: SearchFilters | None = None,
    limit: int = 5,
    language: str | None = None,
) -> list[SearchResult]:
    """Items within `radius_m` metres of (lat, lon), nearest first (given a query, those
    matching it, nearest first)."""
    service = get_search_service()
    if service.generation is None and not service.load():
        ensure_index_from_database()
    return service.nearby(
        lat, lon, radius_m=radius_m, query=query, filters=filters, limit=limit, language=language
    )


def build_index_from_database(database_url: str | None = None) -> int:
    """Rebuild the index from every catalog item, unconditionally; return the item count."""
    from core.database import session_scope
    from knowledge.catalog import all_items, content_hashes

    with session_scope(database_url) as session:
        hashes = content_hashes(session)
        items: list[CatalogItem] = all_items(session)
    get_search_service().build(items, hashes=hashes)
    return len(items)


def ensure_index_from_database(database_url: str | None = None) -> IndexSync:
    """Bring the index up to date with the catalog, item by item; say what was done.

    Reads every id and content hash (one query), then embeds only the items that are new or
    changed since the index last saw them and takes out the ones the catalog no longer has.
    Everything is embedded again only when there is no usable index or the model changed.
    """
    from core.database import session_scope
    from knowledge.catalog import content_hashes, items_by_ids

    started = time.perf_counter()
    with session_scope(database_url) as session:
        wanted = content_hashes(session)

    def fetch(ids: Sequence[str]) -> list[CatalogItem]:
        with session_scope(database_url) as session:  # closed before the embedding starts
            return items_by_ids(session, ids)

    summary = get_search_service().sync(wanted, fetch)
    return replace(summary, seconds=time.perf_counter() - started)
