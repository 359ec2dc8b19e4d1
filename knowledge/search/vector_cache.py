"""Catalog vectors kept on disk by model and text, so no text is embedded twice.

The index already stores each item's vector (its generations and journal), but an index that
must be built from scratch (a new index format, damaged files, a lost folder) would embed the
whole catalog again: with multilingual e5 on 2 cores that is many minutes at 100k items. This
cache survives all of those: one append-only file per model (by the embedder's identity, so
another model or release never reads these vectors) under `<models dir>/embeddings/`, each
record the text's digest and its vector. An item whose content changed but whose indexed text
did not (a new session time, a price) is not embedded again either.

Records have a fixed size, so a torn last record (a crash mid-write) is recognised by the
file's length: readers ignore it and the next writer cuts it off. Writers append under an
exclusive lock; readers load the digests once (16 bytes a record) and map the vectors
(`numpy.memmap`: the page cache holds them, not the process). Rewritten texts leave their old
records behind; the file is only ever appended to (delete it to reclaim the space).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DIGEST_BYTES = 16
_DIGEST_VALUE = np.dtype((np.void, DIGEST_BYTES))  # raw bytes, trailing zeros kept


class VectorCache:
    """Vectors of catalog texts by text digest, for one model, in one file."""

    def __init__(self, folder: Path, identity: str, dimension: int) -> None:
        key = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self.path = Path(folder) / f"vectors-{key}-{dimension}d.bin"
        self.dimension = dimension
        self._record = DIGEST_BYTES + 4 * dimension
        self._lock = threading.Lock()
        self._rows: dict[bytes, int] = {}
        self._loaded_bytes = 0  # how much of the file `_rows` covers
        self._vectors: np.memmap | None = None

    @staticmethod
    def digest(text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8")).digest()[:DIGEST_BYTES]

    def lookup(self, texts: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """Vectors for `texts` (rows of zeros where unknown) and the positions not found."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            self._read_new_records()
            rows = [self._rows.get(self.digest(text), -1) for text in texts]
            missing = [position for position, row in enumerate(rows) if row < 0]
            found = np.flatnonzero(np.asarray(rows, dtype=np.int64) >= 0)
            if len(found) and self._vectors is not None:  # one gather, in file order
                wanted = np.asarray(rows, dtype=np.int64)[found]
                order = np.argsort(wanted, kind="stable")
                out[found[order]] = self._vectors[wanted[order]]
        return out, missing

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Append the vectors of `texts` (one write, under the file's lock)."""
        if not len(texts):
            return
        records = np.empty(len(texts), dtype=self._dtype())
        digests = b"".join(self.digest(text) for text in texts)
        records["digest"] = np.frombuffer(digests, dtype=np.uint8).reshape(len(texts), -1)
        records["vector"] = np.asarray(vectors, dtype="<f4").reshape(len(texts), self.dimension)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        with os.fdopen(descriptor, "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                end = handle.seek(0, os.SEEK_END)
                if end % self._record:  # a torn record left by a crash: cut it off
                    handle.truncate(end - end % self._record)
                    handle.seek(0, os.SEEK_END)
                handle.write(records.tobytes())
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def __len__(self) -> int:
        with self._lock:
            self._read_new_records()
            return len(self._rows)

    def _dtype(self) -> np.dtype:
        # Digests as raw bytes (a bytes dtype would drop trailing zero bytes).
        return np.dtype([("digest", "u1", (DIGEST_BYTES,)), ("vector", "<f4", (self.dimension,))])

    def _read_new_records(self) -> None:
        """Take in records appended since the last look (by this process or another)."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return
        complete = size - size % self._record
        if complete <= self._loaded_bytes:
            return
        count = complete // self._record
        mapped = np.memmap(self.path, dtype=self._dtype(), mode="r", shape=(count,))
        first = self._loaded_bytes // self._record
        # Each digest as one 16-byte value, turned into bytes objects in C (a Python loop
        # slicing them took 124 ms of CPU for 100k records, this 35 ms): the first lookup after
        # a start (an update with many passages) pays it. A rewritten text: its last record wins.
        digests = np.ascontiguousarray(mapped["digest"][first:]).view(_DIGEST_VALUE).ravel()
        self._rows.update(zip(digests.tolist(), range(first, count), strict=True))
        self._vectors = mapped["vector"]
        self._loaded_bytes = complete
