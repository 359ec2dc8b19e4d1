"""Hybrid search over the catalog: dense (embeddings + FAISS), lexical (BM25), filters, nearness.

Other packages call the functions here (re-exported by `knowledge`); the index lives in the
settings' index folder and is shared by every process through it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from core.settings import get_settings
from knowledge.documents import CatalogItem
from knowledge.search import store
from knowledge.search.filters import TIMES_OF_DAY, SearchFilters
from knowledge.search.glossary import GlossaryError, get_glossary
from knowledge.search.results import SearchResult, is_unmet
from knowledge.search.service import SearchService

__all__ = [
    "TIMES_OF_DAY",
    "GlossaryError",
    "SearchFilters",
    "SearchResult",
    "SearchService",
    "build_index_from_database",
    "ensure_index_from_database",
    "get_glossary",
    "get_search_service",
    "is_unmet",
    "nearby",
    "search",
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


def nearby(
    lat: float,
    lon: float,
    *,
    radius_m: float = 3000,
    query: str | None = None,
    filters: SearchFilters | None = None,
    limit: int = 5,
) -> list[SearchResult]:
    """Items within `radius_m` metres of (lat, lon): nearest first, or best match given a query."""
    service = get_search_service()
    if service.generation is None and not service.load():
        ensure_index_from_database()
    return service.nearby(lat, lon, radius_m=radius_m, query=query, filters=filters, limit=limit)


def build_index_from_database(database_url: str | None = None) -> int:
    """Rebuild the index from every catalog item, unconditionally; return the item count."""
    from core.database import session_scope
    from knowledge.catalog import all_items, catalog_fingerprint

    with session_scope(database_url) as session:
        db_fingerprint = catalog_fingerprint(session)
        items: list[CatalogItem] = all_items(session)
    get_search_service().build(items, db_fingerprint=db_fingerprint)
    return len(items)


def ensure_index_from_database(database_url: str | None = None) -> bool:
    """Bring the index up to date with the catalog; True if it had to be rebuilt.

    Cheap when nothing changed: the catalog's own fingerprint is compared with the one the
    index was built from before any item is loaded.
    """
    from core.database import session_scope
    from knowledge.catalog import all_items, catalog_fingerprint

    service = get_search_service()
    with session_scope(database_url) as session:
        db_fingerprint = catalog_fingerprint(session)
        manifest = store.read_manifest(service.index_dir)
        if (
            manifest is not None
            and manifest.db_fingerprint == db_fingerprint
            and manifest.model == service.embedder.identity
            and service.load()
            and service.fingerprint == manifest.fingerprint
            and not service.has_local_changes()
        ):
            return False
        items = all_items(session)
    return service.ensure_index(items, db_fingerprint=db_fingerprint)
