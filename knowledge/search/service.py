"""The search service: one per process, loading the persisted index lazily and keeping it current.

- `ensure_index(items)` rebuilds only when the fingerprint (items' content hashes + embedding
  model + index format) differs from the one on disk.
- `upsert(item)` / `remove(item_id)` change one item: visible to the next search at once and
  persisted through the journal (see `store.py`), no rebuild.
- Each search first compares the manifest's mtime and the journal's size with what it loaded
  (two `stat` calls): a rebuild or update written by another process (the CLI import) is
  picked up without a restart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from core.settings import get_settings
from knowledge.documents import CatalogItem
from knowledge.search import store
from knowledge.search.embedding import Embedder, get_embedder
from knowledge.search.filters import SearchFilters
from knowledge.search.glossary import get_glossary
from knowledge.search.index import HybridIndex, index_text
from knowledge.search.results import SearchResult

logger = logging.getLogger(__name__)

# Journal lines after which single-item changes are folded into a new generation.
JOURNAL_COMPACT_AFTER = 2000


def content_hash(item: CatalogItem) -> str:
    """The catalog's own content hash (so index and catalog agree on what "changed" means)."""
    from knowledge.catalog import content_hash as catalog_content_hash

    return catalog_content_hash(item)


class SearchService:
    """Hybrid search over a persisted index folder."""

    def __init__(self, index_dir: Path | None = None, model_name: str | None = None) -> None:
        self.index_dir = Path(index_dir or get_settings().index_dir)
        self.model_name = model_name or get_settings().embedding_model
        self.build_count = 0  # full builds made by this service (tests assert on it)
        self.last_build_steps: dict[str, float] = {}  # seconds per step of the last build
        self._embedder: Embedder | None = None
        self._index: HybridIndex | None = None
        self._manifest: store.Manifest | None = None
        self._stamp: store.Stamp | None = None
        self._journal_offset = 0
        self._journal_lines = 0
        self._lock = threading.RLock()

    # -- loading -------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.model_name)
        return self._embedder

    @property
    def fingerprint(self) -> str | None:
        return self._manifest.fingerprint if self._manifest else None

    @property
    def generation(self) -> int | None:
        return self._manifest.generation if self._manifest else None

    def item_count(self) -> int:
        with self._lock:
            self._refresh()
            return len(self._index) if self._index is not None else 0

    def load(self) -> bool:
        """Load the persisted index if there is one for this model; True if loaded."""
        with self._lock:
            return self._load_from_disk()

    def _load_from_disk(self) -> bool:
        for _ in range(3):  # a writer may replace the generation while we read it
            manifest = store.read_manifest(self.index_dir)
            if manifest is None or manifest.model != self.embedder.identity:
                return False
            try:
                index = store.load_generation(self.index_dir, manifest)
            except OSError:
                continue
            self._index, self._manifest = index, manifest
            self._journal_offset, self._journal_lines = 0, 0
            self._replay_journal()
            return True
        return False

    def _refresh(self) -> None:
        """Pick up what another process wrote since we last looked (two stat calls)."""
        if self._manifest is None:
            self._load_from_disk()
            return
        current = store.stamp(self.index_dir, self._manifest.generation)
        if current == self._stamp:
            return
        manifest = store.read_manifest(self.index_dir)
        if manifest is not None and manifest.generation != self._manifest.generation:
            logger.info(
                "search index changed on disk (generation %s): reloading", manifest.generation
            )
            self._load_from_disk()
        else:
            self._replay_journal()

    def _replay_journal(self) -> None:
        assert self._manifest is not None and self._index is not None
        records, self._journal_offset = store.read_journal(
            self.index_dir, self._manifest.generation, self._journal_offset
        )
        for record in records:
            self._journal_lines += 1
            if record["op"] == "upsert":
                item = store.item_from_dict(record["item"])
                self._apply_upsert(item, record["hash"])
            elif record["op"] == "remove":
                self._index.retire(record["id"])
        self._stamp = store.stamp(self.index_dir, self._manifest.generation)

    # -- building ------------------------------------------------------------------------
    def fingerprint_of(self, items: Sequence[CatalogItem]) -> str:
        hashes = sorted((item.id, content_hash(item)) for item in items)
        return self._fingerprint(hashes)

    def _fingerprint(self, pairs: Sequence[tuple[str, str]]) -> str:
        identity = f"{self.embedder.identity}|{get_glossary().digest}|{store.FORMAT_VERSION}"
        digest = hashlib.sha256(f"{identity}\n".encode())
        for item_id, item_hash in pairs:
            digest.update(f"{item_id}\t{item_hash}\n".encode())
        return digest.hexdigest()

    def _current_fingerprint(self) -> str | None:
        """The fingerprint of what is loaded now, single-item changes included."""
        if self._manifest is None or self._index is None:
            return None
        if self._journal_lines == 0:
            return self._manifest.fingerprint
        return self._fingerprint(sorted(self._index.hashes.items()))

    def has_local_changes(self) -> bool:
        """True when single-item changes were made since the last full build."""
        return self._journal_lines > 0

    def ensure_index(self, items: Sequence[CatalogItem], *, db_fingerprint: str = "") -> bool:
        """Make the index hold exactly `items`; rebuild only if they changed. True if rebuilt."""
        fingerprint = self.fingerprint_of(items)
        with self._lock:
            self._refresh()
            if self._current_fingerprint() == fingerprint:
                if (
                    db_fingerprint
                    and self._manifest is not None
                    and self._manifest.db_fingerprint != db_fingerprint
                    and not self.has_local_changes()
                ):
                    with store.folder_lock(self.index_dir):
                        self._manifest = store.rewrite_manifest(
                            self.index_dir, self._manifest, db_fingerprint=db_fingerprint
                        )
                        self._stamp = store.stamp(self.index_dir, self._manifest.generation)
                return False
        self.build(items, fingerprint=fingerprint, db_fingerprint=db_fingerprint)
        return True

    def build(
        self,
        items: Sequence[CatalogItem],
        *,
        fingerprint: str | None = None,
        db_fingerprint: str = "",
        batch_size: int = 64,
    ) -> None:
        """Embed and index every item from scratch, then persist it as a new generation."""
        unique = list({item.id: item for item in items}.values())
        hashes = [content_hash(item) for item in unique]
        fingerprint = fingerprint or self._fingerprint(
            sorted(zip([i.id for i in unique], hashes, strict=True))
        )
        steps: dict[str, float] = {}
        started = time.perf_counter()
        texts = [index_text(item) for item in unique]
        vectors = self.embedder.encode(texts, batch_size=batch_size)
        steps["embedding"] = time.perf_counter() - started
        glossary = get_glossary()
        index = HybridIndex(self.embedder.dimension)
        index.add(unique, vectors, hashes, [glossary.concepts_in(text) for text in texts])
        steps["indexing"] = time.perf_counter() - started - steps["embedding"]
        manifest = store.Manifest(
            generation=0,
            fingerprint=fingerprint,
            db_fingerprint=db_fingerprint,
            model=self.embedder.identity,
            dimension=self.embedder.dimension,
            count=len(unique),
        )
        with self._lock, store.folder_lock(self.index_dir):
            self._manifest = store.write_generation(self.index_dir, index, manifest)
            self._index = index
            self._journal_offset, self._journal_lines = 0, 0
            self._stamp = store.stamp(self.index_dir, self._manifest.generation)
            self.build_count += 1
        steps["persisting"] = time.perf_counter() - started - sum(steps.values())
        self.last_build_steps = steps
        logger.info("search index built: %d items, generation %d", len(unique), self.generation)

    # -- single-item changes -------------------------------------------------------------
    def upsert(self, item: CatalogItem) -> None:
        """Add or replace one item: searchable at once, persisted in the journal."""
        digest = content_hash(item)
        with self._lock:
            self._ensure_loaded()
            assert self._index is not None
            if self._index.hashes.get(item.id) == digest:
                return
            self._add_one(item, digest)
            self._journal({"op": "upsert", "item": store.item_to_dict(item), "hash": digest})

    def remove(self, item_id: str) -> bool:
        """Take one item out of search; False if it was not indexed."""
        with self._lock:
            self._ensure_loaded()
            assert self._index is not None
            if not self._index.retire(item_id):
                return False
            self._journal({"op": "remove", "id": item_id})
            return True

    def _apply_upsert(self, item: CatalogItem, digest: str) -> None:
        assert self._index is not None
        if self._index.hashes.get(item.id) != digest:
            self._add_one(item, digest)

    def _add_one(self, item: CatalogItem, digest: str) -> None:
        assert self._index is not None
        text = index_text(item)
        vector = self.embedder.encode([text])
        self._index.add([item], vector, [digest], [get_glossary().concepts_in(text)])

    def _journal(self, record: dict) -> None:
        assert self._manifest is not None and self._index is not None
        with store.folder_lock(self.index_dir):
            self._refresh_locked_journal()
            store.append_journal(self.index_dir, self._manifest.generation, record)
            self._journal_offset = store.stamp(
                self.index_dir, self._manifest.generation
            ).journal_size
            self._journal_lines += 1
            self._stamp = store.stamp(self.index_dir, self._manifest.generation)
            if self._journal_lines >= JOURNAL_COMPACT_AFTER:
                compacted = store.Manifest(
                    **{
                        **asdict(self._manifest),
                        "fingerprint": self._fingerprint(sorted(self._index.hashes.items())),
                        "db_fingerprint": "",  # unknown: the database may not have these changes
                        "count": len(self._index),
                    }
                )
                self._manifest = store.write_generation(self.index_dir, self._index, compacted)
                self._journal_offset, self._journal_lines = 0, 0
                self._stamp = store.stamp(self.index_dir, self._manifest.generation)

    def _refresh_locked_journal(self) -> None:
        """Before appending, apply lines other processes appended, so offsets stay in step."""
        assert self._manifest is not None
        if (
            store.stamp(self.index_dir, self._manifest.generation).journal_size
            != self._journal_offset
        ):
            self._replay_journal()

    def _ensure_loaded(self) -> None:
        self._refresh()
        if self._index is None:
            self.build([])

    # -- searching -----------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        limit: int = 5,
        filters: SearchFilters | None = None,
        near: tuple[float, float] | None = None,
        radius_m: float | None = None,
        language: str | None = None,
        mode: str = "hybrid",
    ) -> list[SearchResult]:
        """Ranked results; see `knowledge.search.index` for how they are ranked and flagged."""
        expansion = get_glossary().expand(query)
        with self._lock:
            self._refresh()
            if self._index is None:
                return []
            return self._index.query(
                query,
                self.embedder.encode_query,
                expansion,
                limit=limit,
                filters=filters,
                near=near,
                radius_m=radius_m,
                language=language,
                mode=mode,
                multilingual=self.embedder.multilingual,
            )

    def nearby(
        self,
        lat: float,
        lon: float,
        *,
        radius_m: float = 3000,
        query: str | None = None,
        filters: SearchFilters | None = None,
        limit: int = 5,
    ) -> list[SearchResult]:
        """What is within `radius_m` metres, nearest first (or best match first given a query)."""
        return self.search(
            query or "", limit=limit, filters=filters, near=(lat, lon), radius_m=radius_m
        )
