"""Dense retrieval: a FAISS HNSW graph over normalised vectors (inner product = cosine).

Why HNSW: exhaustive inner product over 100k x 384 floats took ~17 ms per query on the
2-core benchmark machine; HNSW (M=32, efSearch=128) answers in ~1-2 ms. HNSW cannot delete,
so the index is append-only and slots are mapped to item ids by the caller: an update adds
a new slot and retires the old one, a removal retires it, and retired slots are masked out
of results. Re-indexing (`HybridIndex.reindexed`, when retired slots outnumber half the live
ones, or `SearchService.compact`) drops them, reusing the stored vectors.

Filtered searches: when few slots pass a filter, their vectors are scored exhaustively
(exact, and fast because they are few); otherwise the graph is searched with a FAISS ID
selector so only passing slots are returned.

Spare room: FAISS keeps the vectors and the graph's links in vectors sized exactly to what
they hold after a build or a load, so the next single add reallocates and copies all of them
(~180 MB at 100k items: 75 ms on an idle 2-core machine, 400+ ms when other processes share
the cores). `reserve` makes that room ahead of time, at load and build, off the update path.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_M = 32
EF_CONSTRUCTION = 64
EF_SEARCH = 128
EXHAUSTIVE_BELOW = 4096  # at or below this many allowed slots, score them all exactly
SPARE_SLOTS = 4096  # room kept for single adds (~7 MB at 384 dimensions; less for small indexes)
# Graph links per slot to reserve: level 0 holds 2*M, and a slot reaches level 1 with
# probability 1/M, so M more covers the expected upper-level links many times over.
_LINKS_PER_SLOT = 3 * HNSW_M


class DenseIndex:
    """Append-only vectors in an HNSW graph; slot n is the n-th vector added."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        if index is None:
            index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
        index.hnsw.efSearch = EF_SEARCH
        self.index = index
        self.reserved = 0  # slots that fit without FAISS reallocating (as far as we made sure)
        self.reserve()

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray) -> int:
        """Append vectors; return the first new slot."""
        first = len(self)
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            if len(self) >= self.reserved:
                # The room is used up: make more now. Usually cheap, since the C++ vectors grow
                # geometrically and already have it; a real copy comes once per doubling.
                self.reserve()
        return first

    def reserve(self, spare: int | None = None) -> None:
        """Make room for `spare` more vectors, so adding them copies nothing already stored.

        FAISS exposes no `reserve`; growing a C++ vector and shrinking it back keeps the larger
        allocation (shrinking never releases capacity), which is what a reserve does.
        """
        storage = faiss.downcast_index(self.index.storage)
        hnsw = self.index.hnsw
        total = len(self)
        if spare is None:  # small indexes copy little when they grow: keep them small
            spare = max(64, min(SPARE_SLOTS, total))
        for vector, size in (
            (storage.codes, (total + spare) * storage.code_size),
            (hnsw.neighbors, hnsw.neighbors.size() + spare * _LINKS_PER_SLOT),
            (hnsw.levels, total + spare),
            (hnsw.offsets, total + spare + 1),
        ):
            if not getattr(vector, "is_owned", True):  # a memory-mapped index cannot grow
                return
            current = vector.size()
            if size > current:
                vector.resize(size)
                vector.resize(current)
        self.reserved = total + spare

    def vectors(self) -> np.ndarray:
        """A read-only view of every stored vector (no copy)."""
        storage = faiss.downcast_index(self.index.storage)
        total = len(self)
        if total == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        flat = faiss.rev_swig_ptr(storage.get_xb(), total * self.dimension)
        return flat.reshape(total, self.dimension)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top-k slots by cosine similarity, best first; `allowed` masks slots out."""
        total = len(self)
        if total == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is None:
            scores, slots = self.index.search(query, min(k, total))
            return _valid(slots[0], scores[0])
        allowed = allowed[:total]
        passing = np.flatnonzero(allowed)
        if len(passing) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(passing) <= EXHAUSTIVE_BELOW:
            scores = self.vectors()[passing] @ query[0]
            top = np.argsort(-scores, kind="stable")[:k]
            return passing[top].astype(np.int64), scores[top]
        bitmap = np.packbits(allowed, bitorder="little")
        selector = faiss.IDSelectorBitmap(total, faiss.swig_ptr(bitmap))
        parameters = faiss.SearchParametersHNSW(sel=selector, efSearch=max(EF_SEARCH, k))
        scores, slots = self.index.search(query, min(k, len(passing)), params=parameters)
        return _valid(slots[0], scores[0])

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, dimension: int) -> DenseIndex:
        return cls(dimension, faiss.read_index(str(path)))


def _valid(slots: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = slots >= 0
    return slots[keep].astype(np.int64), scores[keep]
