"""The index on disk: numbered generations, a manifest naming the current one, and a journal.

Layout of the index folder:
- `manifest.json`: generation number, embedding model, glossary digest, counts. Replaced
  atomically last, so a reader never sees a half-written generation.
- `dense-<n>.faiss`, `state-<n>.pkl`: the FAISS graph and everything else of generation n,
  each written to a temporary file, synced and renamed into place.
- `journal-<n>.jsonl`: changes made since generation n was written (single upserts and removals,
  and the changes of an incremental sync); one line each with the item's vector, so replaying
  them on load embeds nothing. Lines are appended and flushed; a torn last line (a crash
  mid-write) is ignored by readers and cut off by the next writer. Another process notices
  new lines by the file's size, and a new generation by the manifest's modification time.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.documents import CatalogItem, Session
from knowledge.search.dense import DenseIndex
from knowledge.search.index import HybridIndex
from knowledge.search.lexical import LexicalIndex

logger = logging.getLogger(__name__)

# 2: manifest names the glossary; journal lines carry vectors. 3: Arabic words indexed
# without their article. 4: name fields indexed apart, live documents marked in the lexical
# index, languages of instruction left out of the topic text. 5: an item's vector is the mean
# of its passages' vectors (item_vectors.py). 6: filter columns of the weekdays an item is
# held on (a search for dates), sessions may repeat yearly.
FORMAT_VERSION = 10  # 10: glossary terms met without accents; 9: Latin words indexed without accents; 8: names also romanized (romanize.py); 7: passages cut at sentence ends
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    generation: int
    model: str  # the embedder's identity: a different one means every vector is stale
    glossary: str  # digest of the glossary the documents' concept tokens came from
    dimension: int
    count: int  # live items when the generation was written
    format: int = FORMAT_VERSION


@dataclass(frozen=True)
class Stamp:
    """What a running service compares on each query to notice changes made by another process."""

    manifest_mtime_ns: int
    journal_size: int


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the index folder across processes (writers only; not reentrant)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(folder: Path) -> Manifest | None:
    """The current manifest; None when there is none, it is unreadable or of another format."""
    try:
        data = json.loads((folder / MANIFEST).read_text())
        if data.get("format") != FORMAT_VERSION:
            return None
        return Manifest(**data)
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def stamp(folder: Path, generation: int) -> Stamp:
    try:
        manifest_time = (folder / MANIFEST).stat().st_mtime_ns
    except OSError:
        manifest_time = 0
    try:
        journal_size = (folder / f"journal-{generation}.jsonl").stat().st_size
    except OSError:
        journal_size = 0
    return Stamp(manifest_time, journal_size)


def write_generation(folder: Path, index: HybridIndex, manifest: Manifest) -> Manifest:
    """Write `index` as the next generation and make it current; remove older generations.
    The caller holds `folder_lock`. A crash at any point leaves the previous generation current."""
    previous = read_manifest(folder)
    generation = (previous.generation if previous else 0) + 1
    manifest = Manifest(**{**asdict(manifest), "generation": generation})
    _write_atomically(folder / f"dense-{generation}.faiss", index.dense.save)
    state = {
        "items": index.items,
        "slot_of": index.slot_of,
        "hashes": index.hashes,
        "alive": index.alive,
        "latitude": index.latitude,
        "longitude": index.longitude,
        "columns": index.columns,
        "lexical": index.lexical.state(),
        "names": index.names.state(),
    }

    def write_state(path: Path) -> None:
        with open(path, "wb") as handle:
            pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)

    _write_atomically(folder / f"state-{generation}.pkl", write_state)
    (folder / f"journal-{generation}.jsonl").write_bytes(b"")
    _write_atomically(
        folder / MANIFEST, lambda path: path.write_text(json.dumps(asdict(manifest), indent=2))
    )
    _sync_folder(folder)
    for path in folder.iterdir():
        stem = path.name.split(".", 1)[0]
        number = stem.rsplit("-", 1)[1] if "-" in stem else ""
        if number.isdigit() and int(number) < generation:
            path.unlink(missing_ok=True)
    return manifest


def load_generation(folder: Path, manifest: Manifest) -> HybridIndex:
    """Read generation `manifest.generation` (raises OSError if it vanished meanwhile)."""
    generation = manifest.generation
    with open(folder / f"state-{generation}.pkl", "rb") as handle:
        state: dict[str, Any] = pickle.load(handle)  # our own file, written by write_generation
    index = HybridIndex(manifest.dimension)
    index.dense = DenseIndex.load(folder / f"dense-{generation}.faiss", manifest.dimension)
    index.items = state["items"]
    index.slot_of = state["slot_of"]
    index.hashes = state["hashes"]
    index.alive = state["alive"]
    index.latitude = state["latitude"]
    index.longitude = state["longitude"]
    index.columns = state["columns"]
    index.lexical = LexicalIndex.from_state(state["lexical"])
    index.names = LexicalIndex.from_state(state["names"])
    if not len(index.dense) == len(index.items) == len(index.alive):
        raise ValueError(f"generation {generation}: dense index and item slots are out of step")
    return index


def append_journal(folder: Path, generation: int, records: list[dict[str, Any]]) -> int:
    """Append changes in one write; return the journal's new size."""
    data = b"".join(
        (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        for record in records
    )
    descriptor = os.open(folder / f"journal-{generation}.jsonl", os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(descriptor, "r+b") as handle:
        _cut_torn_tail(handle)
        handle.seek(0, os.SEEK_END)
        # Flushed for other processes, not fsynced: the database stays the source of truth,
        # and a line lost in a crash is put back by the next sync with the database.
        handle.write(data)
        handle.flush()
        return handle.tell()


def read_journal(
    folder: Path, generation: int, offset: int
) -> tuple[list[dict[str, Any]], int, int]:
    """Complete lines written after `offset`, the offset after the last complete line, and how
    many lines could not be read (skipped)."""
    try:
        with open(folder / f"journal-{generation}.jsonl", "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return [], offset, 0
    end = data.rfind(b"\n") + 1
    records, damaged = [], 0
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            damaged += 1
            continue
        if _well_formed(record):
            records.append(record)
        else:
            damaged += 1
    if damaged:
        logger.warning("search index journal %d: %d unreadable lines skipped", generation, damaged)
    return records, offset + end, damaged


def upsert_record(item: CatalogItem, digest: str, vector: np.ndarray) -> dict[str, Any]:
    vector = np.ascontiguousarray(vector, dtype="<f4")
    return {
        "op": "upsert",
        "item": asdict(item),
        "hash": digest,
        "vector": base64.b64encode(vector.tobytes()).decode("ascii"),
    }


def remove_record(item_id: str) -> dict[str, Any]:
    return {"op": "remove", "id": item_id}


def record_id(record: dict[str, Any]) -> str:
    return record["item"]["id"] if record["op"] == "upsert" else record["id"]


def record_vector(record: dict[str, Any], dimension: int) -> np.ndarray | None:
    """The stored vector of an upsert line (None for lines written without one)."""
    encoded = record.get("vector")
    if not encoded:
        return None
    vector = np.frombuffer(base64.b64decode(encoded), dtype="<f4")
    return vector.astype(np.float32) if len(vector) == dimension else None


def item_from_dict(data: dict[str, Any]) -> CatalogItem:
    values = dict(data)
    values["sessions"] = tuple(Session(**{**s, "days": tuple(s["days"])}) for s in data["sessions"])
    for name in ("topics", "languages", "audiences", "amenities", "accessibility"):
        values[name] = tuple(data.get(name) or ())
    return CatalogItem(**values)


def _well_formed(record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    if record.get("op") == "remove":
        return isinstance(record.get("id"), str)
    return (
        record.get("op") == "upsert"
        and isinstance(record.get("item"), dict)
        and isinstance(record["item"].get("id"), str)
        and isinstance(record.get("hash"), str)
    )


def _cut_torn_tail(handle: Any) -> None:
    """Drop an incomplete last line (left by a crash mid-append) so the next line starts clean."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return
    handle.seek(end - 1)
    if handle.read(1) == b"\n":
        return
    position = end
    while position > 0:
        start = max(0, position - 65536)
        handle.seek(start)
        newline = handle.read(position - start).rfind(b"\n")
        if newline >= 0:
            handle.truncate(start + newline + 1)
            return
        position = start
    handle.truncate(0)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file, synced to disk, then renamed over `path`."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    descriptor = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


def _sync_folder(folder: Path) -> None:
    """Make the renames durable (a directory's entries are synced through the directory)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
