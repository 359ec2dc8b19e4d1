"""Dense retrieval: a FAISS HNSW graph over normalised vectors (inner product = cosine).

Why HNSW: exhaustive inner product over 100k x 384 floats took ~17 ms per query on the
2-core benchmark machine; HNSW (M=32, efSearch=128) answers in ~1-2 ms. HNSW cannot delete,
so the index is append-only and slots are mapped to item ids by the caller: an update adds
a new slot and retires the old one, a removal retires it, and retired slots are masked out
of results. A full rebuild (when the catalog fingerprint changes) compacts them away.

Filtered searches: when few slots pass a filter, their vectors are scored exhaustively
(exact, and fast because they are few); otherwise the graph is searched with a FAISS ID
selector so only passing slots are returned.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_M = 32
EF_CONSTRUCTION = 64
EF_SEARCH = 128
EXHAUSTIVE_BELOW = 4096  # at or below this many allowed slots, score them all exactly


class DenseIndex:
    """Append-only vectors in an HNSW graph; slot n is the n-th vector added."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        if index is None:
            index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
        index.hnsw.efSearch = EF_SEARCH
        self.index = index

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray) -> int:
        """Append vectors; return the first new slot."""
        first = len(self)
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return first

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
