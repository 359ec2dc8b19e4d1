"""The search service: one per process, loading the persisted index lazily and keeping it current.

- `sync(wanted, fetch)` (and `ensure_index(items)` over it) makes the index hold exactly the
  wanted items, compared by content hash: new and changed items are embedded and added,
  removed ones taken out, unchanged ones left alone. Everything is embedded again only when
  there is no usable index (none yet, unreadable, another format) or the embedding model
  changed; an edited glossary re-indexes the stored vectors without embedding anything.
- `upsert(item)` / `remove(item_id)` change one item: visible to the next search at once and
  persisted through the journal (see `store.py`).
- Each search first compares the manifest's mtime and the journal's size with what it loaded
  (two `stat` calls): a sync or update written by another process (the CLI import) is picked
  up without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import get_settings
from knowledge.documents import CatalogItem
from knowledge.search import store
from knowledge.search.embedding import Embedder, get_embedder
from knowledge.search.fields import index_text
from knowledge.search.filters import SearchFilters, item_features
from knowledge.search.fusion import DEFAULT_WEIGHTS, FusionWeights
from knowledge.search.glossary import get_glossary
from knowledge.search.index import HybridIndex
from knowledge.search.item_vectors import item_vectors
from knowledge.search.lexical import tokenize
from knowledge.search.results import IndexSync, SearchResult
from knowledge.search.spelling import glossary_speller, is_common_word

logger = logging.getLogger(__name__)

# Journal lines after which a sync folds them into a new generation (single-item changes never
# write a generation, so they stay fast; replaying a long journal embeds nothing).
JOURNAL_COMPACT_AFTER = 2000
# Retired slots (old versions of changed items, removed items) are dropped by re-indexing the
# stored vectors once they outnumber half the live items (and at least this many). They no
# longer count in any statistic (lexical.py), so this is about memory, not ranking; a small
# city's catalog re-imported once is cleaned up at its next sync.
REINDEX_RETIRED_AT_LEAST = 32

Fetch = Callable[[Sequence[str]], Sequence[CatalogItem]]


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
        self.embedded_count = 0  # items embedded by this service, builds included
        self.last_build_steps: dict[str, float] = {}  # seconds per step of the last build
        self._embedder: Embedder | None = None
        self._index: HybridIndex | None = None
        self._manifest: store.Manifest | None = None
        self._stamp: store.Stamp | None = None
        self._unusable = ""  # why the index on disk could not be loaded, if it could not
        self._journal_offset = 0
        self._journal_lines = 0
        self._journal_damaged = False
        self._lock = threading.RLock()

    # -- loading -------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.model_name)
        return self._embedder

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
            if manifest is None:
                exists = (self.index_dir / store.MANIFEST).exists()
                self._unusable = "unreadable or older index format" if exists else "no index yet"
                return False
            if manifest.model != self.embedder.identity:
                self._unusable = f"embedding model changed from {manifest.model}"
                return False
            try:
                index = store.load_generation(self.index_dir, manifest)
            except OSError:
                self._unusable = "index files missing"
                continue
            except Exception as error:  # any damage to our own files: rebuild from the catalog
                logger.warning("search index generation %s is unreadable: %r", manifest, error)
                self._unusable = f"index files unreadable ({type(error).__name__})"
                return False
            self._index, self._manifest, self._unusable = index, manifest, ""
            self._journal_offset, self._journal_lines, self._journal_damaged = 0, 0, False
            self._replay_journal()
            self._warm_up()
            return True
        return False

    def _warm_up(self) -> None:
        """Pay one-time costs now rather than on the first update or question: the glossary
        file is parsed and jieba loads its dictionary on first use, and the first question
        whose words are weighed by how common they are imports wordfreq and reads its lists
        (at 100k items the first update after a load took 268 ms of CPU, 1.1 s wall, instead of
        ~60 ms; FAISS makes room for new vectors when `DenseIndex` is loaded)."""
        get_glossary().concepts_in(index_text(CatalogItem(id="", type="course", name="预热")))
        tokenize("预热 warm up")
        # Each language's list by name: by script alone, "warm" (common in English) stopped
        # before French and Spanish were read, and the first update or question in them paid
        # ~30 ms of CPU each (measured at 20k items: first update 101 ms CPU, later ones 57).
        for code in ("en", "fr", "es", "ru", "uk", "ar"):
            is_common_word("warm", code)
        item_features(CatalogItem(id="", type="course", name="", district="warm"))  # city file

    def _refresh(self) -> None:
        """Pick up what another process wrote since we last looked (two stat calls)."""
        if self._manifest is None:
            self._load_from_disk()
            return
        current = store.stamp(self.index_dir, self._manifest.generation)
        if current == self._stamp:
            return
        manifest = store.read_manifest(self.index_dir)
        if manifest is None or manifest.generation != self._manifest.generation:
            logger.info("search index changed on disk: reloading")
            if not self._load_from_disk():
                # Keep serving what is loaded; look again when the folder changes again.
                self._stamp = current
        else:
            self._replay_journal()

    def _replay_journal(self) -> None:
        assert self._manifest is not None and self._index is not None
        records, self._journal_offset, damaged = store.read_journal(
            self.index_dir, self._manifest.generation, self._journal_offset
        )
        self._journal_lines += len(records) + damaged
        self._journal_damaged = self._journal_damaged or damaged > 0
        self._apply_records(records)
        self._stamp = store.stamp(self.index_dir, self._manifest.generation)

    def _apply_records(self, records: list[dict[str, Any]]) -> None:
        """Apply journal lines: only the last line per item counts, upserts added in one batch."""
        assert self._index is not None
        last = {store.record_id(record): record for record in records}
        upserts = []
        for item_id, record in last.items():
            if record["op"] == "remove":
                self._index.retire(item_id)
            elif self._index.hashes.get(item_id) != record["hash"]:
                upserts.append(record)
        if not upserts:
            return
        items = [store.item_from_dict(record["item"]) for record in upserts]
        dimension = self._index.dense.dimension
        stored = [store.record_vector(record, dimension) for record in upserts]
        missing = [position for position, vector in enumerate(stored) if vector is None]
        if missing:  # lines written without a vector: embed those items
            fresh = self._embed([items[position] for position in missing])
            for position, vector in zip(missing, fresh, strict=True):
                stored[position] = vector
        vectors = np.vstack(stored).astype(np.float32)  # type: ignore[arg-type]
        self._add(items, vectors, [record["hash"] for record in upserts])

    # -- building and syncing ------------------------------------------------------------
    def ensure_index(self, items: Sequence[CatalogItem]) -> IndexSync:
        """Make the index hold exactly `items` (see `sync`)."""
        by_id = {item.id: item for item in items}
        wanted = {item_id: content_hash(item) for item_id, item in by_id.items()}
        return self.sync(wanted, lambda ids: [by_id[i] for i in ids if i in by_id])

    def sync(self, wanted: Mapping[str, str], fetch: Fetch, *, batch_size: int = 64) -> IndexSync:
        """Make the index hold exactly the items `wanted` maps (id -> content hash) and persist it.

        `fetch(ids)` returns the items for those ids (unknown ids are skipped); it is asked only
        for new and changed items, or for all of them when the index must be built from scratch.
        """
        started = time.perf_counter()
        with self._lock:
            self._refresh()
            rebuild_reason = self._unusable or ("no index yet" if self._index is None else "")
            if not rebuild_reason:
                assert self._index is not None
                indexed = self._index.hashes
                new = [item_id for item_id in wanted if item_id not in indexed]
                changed = [i for i, h in wanted.items() if i in indexed and indexed[i] != h]
                gone = [item_id for item_id in indexed if item_id not in wanted]
        if rebuild_reason:
            items = list(fetch(list(wanted)))
            self.build(items, hashes=wanted)
            summary = IndexSync(
                added=len(items),
                rebuilt=True,
                reason=rebuild_reason,
                seconds=time.perf_counter() - started,
            )
            logger.info("%s", summary)
            return summary
        items = list(fetch(new + changed))  # embedded outside the locks: searches go on
        vectors = self._embed(items, batch_size=batch_size)
        with self._lock, store.folder_lock(self.index_dir):
            self._refresh()
            stale = bool(self._unusable)  # another process wrote an index we cannot use
            if stale:
                counts, reason = (0, 0, 0), ""
            else:
                fold = (
                    self._journal_lines + len(items) + len(gone) > JOURNAL_COMPACT_AFTER
                    or self._journal_damaged
                )  # into a new generation: then journalling these changes first is wasted
                digests = [wanted[item.id] for item in items]
                counts = self._commit(items, digests, vectors, gone, journal=not fold)
                reason = self._reindex_reason()
                if reason:
                    self._reindex()
                if fold or reason:
                    self._write_generation()
        if stale:
            return self.sync(wanted, fetch, batch_size=batch_size)  # builds from scratch
        summary = IndexSync(
            added=counts[0],
            updated=counts[1],
            removed=counts[2],
            unchanged=len(wanted) - len(new) - len(changed),
            reindexed=bool(reason),
            reason=reason,
            seconds=time.perf_counter() - started,
        )
        logger.info("%s", summary)
        return summary

    def build(
        self,
        items: Sequence[CatalogItem],
        *,
        hashes: Mapping[str, str] | None = None,
        batch_size: int = 64,
    ) -> None:
        """Embed and index every item from scratch, then persist it as a new generation.
        `hashes`: content hashes by id when the caller has them (the catalog stores them)."""
        unique = list({item.id: item for item in items}.values())
        known = hashes or {}
        digests = [known.get(item.id) or content_hash(item) for item in unique]
        steps: dict[str, float] = {}
        started = time.perf_counter()
        texts = [index_text(item) for item in unique]
        vectors = self._embed(unique, batch_size=batch_size)
        steps["embedding"] = time.perf_counter() - started
        glossary = get_glossary()
        index = HybridIndex(self.embedder.dimension)
        index.add(unique, vectors, digests, [glossary.concepts_in(text) for text in texts])
        steps["indexing"] = time.perf_counter() - started - steps["embedding"]
        with self._lock, store.folder_lock(self.index_dir):
            self._index = index
            self._write_generation()
            self.build_count += 1
        steps["persisting"] = time.perf_counter() - started - sum(steps.values())
        self.last_build_steps = steps
        logger.info("search index built: %d items, generation %d", len(unique), self.generation)

    def compact(self) -> None:
        """Write the index as a new generation without retired slots, folding in the journal.
        Reuses the stored vectors: nothing is embedded."""
        with self._lock:
            self._ensure_loaded()
            with store.folder_lock(self.index_dir):
                self._refresh()
                self._reindex()
                self._write_generation()

    def _reindex_reason(self) -> str:
        assert self._index is not None and self._manifest is not None
        if self._manifest.glossary != get_glossary().digest:
            return "glossary changed"
        retired = self._index.retired
        if retired >= REINDEX_RETIRED_AT_LEAST and retired > len(self._index) // 2:
            return f"{retired} retired slots"
        return ""

    def _reindex(self) -> None:
        assert self._index is not None
        self._index = self._index.reindexed(get_glossary().concepts_in)

    def _write_generation(self) -> None:
        """Persist the in-memory index as the next generation (caller holds both locks)."""
        assert self._index is not None
        manifest = store.Manifest(
            generation=0,
            model=self.embedder.identity,
            glossary=get_glossary().digest,
            dimension=self.embedder.dimension,
            count=len(self._index),
        )
        self._manifest = store.write_generation(self.index_dir, self._index, manifest)
        self._unusable = ""
        self._journal_offset, self._journal_lines, self._journal_damaged = 0, 0, False
        self._stamp = store.stamp(self.index_dir, self._manifest.generation)

    # -- single-item changes -------------------------------------------------------------
    def upsert(self, item: CatalogItem) -> None:
        """Add or replace one item: searchable at once, persisted in the journal."""
        digest = content_hash(item)
        with self._lock:
            self._ensure_loaded()
            assert self._index is not None
            if self._index.hashes.get(item.id) == digest:
                return
        vector = self._embed([item])  # outside the lock: searches go on meanwhile
        with self._lock, store.folder_lock(self.index_dir):
            self._commit([item], [digest], vector, [])

    def remove(self, item_id: str) -> bool:
        """Take one item out of search; False if it was not indexed."""
        with self._lock:
            self._ensure_loaded()
            with store.folder_lock(self.index_dir):
                return self._commit([], [], None, [item_id])[2] == 1

    def _commit(
        self,
        items: Sequence[CatalogItem],
        digests: Sequence[str],
        vectors: np.ndarray | None,
        removals: Sequence[str],
        *,
        journal: bool = True,
    ) -> tuple[int, int, int]:
        """Apply changes in memory and append them to the journal (unless the caller writes a
        generation next); return (added, updated, removed). The caller holds both locks; what
        another process wrote is applied first, and changes it already made are skipped."""
        self._refresh()
        assert self._index is not None and self._manifest is not None
        indexed = self._index.hashes
        keep = [n for n, item in enumerate(items) if indexed.get(item.id) != digests[n]]
        updated = sum(1 for n in keep if items[n].id in indexed)
        gone = [item_id for item_id in dict.fromkeys(removals) if item_id in indexed]
        records = [store.remove_record(item_id) for item_id in gone]
        for item_id in gone:
            self._index.retire(item_id)
        if keep:
            assert vectors is not None
            kept_items = [items[n] for n in keep]
            kept_vectors = vectors[keep]
            kept_digests = [digests[n] for n in keep]
            self._add(kept_items, kept_vectors, kept_digests)
            records += [
                store.upsert_record(item, digest, vector)
                for item, digest, vector in zip(kept_items, kept_digests, kept_vectors, strict=True)
            ]
        if records and journal:
            self._journal_offset = store.append_journal(
                self.index_dir, self._manifest.generation, records
            )
            self._journal_lines += len(records)
            self._stamp = store.stamp(self.index_dir, self._manifest.generation)
        return len(keep) - updated, updated, len(gone)

    def _add(self, items: Sequence[CatalogItem], vectors: np.ndarray, digests: list[str]) -> None:
        assert self._index is not None
        concepts_in = get_glossary().concepts_in
        concepts = [concepts_in(index_text(item)) for item in items]
        self._index.add(items, vectors, digests, concepts)

    def _embed(self, items: Sequence[CatalogItem], *, batch_size: int = 64) -> np.ndarray:
        self.embedded_count += len(items)
        encode = partial(self.embedder.encode, batch_size=batch_size)
        return item_vectors(encode, items)  # the mean of the items' passages (item_vectors.py)

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
        weights: FusionWeights = DEFAULT_WEIGHTS,
    ) -> list[SearchResult]:
        """Ranked results; see `knowledge.search.index` for how they are ranked and flagged.
        `weights`: the fusion's (bench/fusion_tuning.py tries others)."""
        glossary = get_glossary()
        with self._lock:
            self._refresh()
            if self._index is None:
                return []
            corrections = self._index.corrections(query, glossary_speller(glossary), language)
            fixed = [word for words in corrections.values() for word in words]
            expansion = glossary.expand(" ".join([query, *fixed]), language)
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
                corrections=corrections,
                weights=weights,
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
        language: str | None = None,
    ) -> list[SearchResult]:
        """What is within `radius_m` metres, nearest first (given a query, what matches it)."""
        return self.search(
            query or "",
            limit=limit,
            filters=filters,
            near=(lat, lon),
            radius_m=radius_m,
            language=language,
        )
