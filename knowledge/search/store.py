"""The index on disk: numbered generations, a manifest naming the current one, and a journal.

Layout of the index folder:
- `manifest.json`: generation number, fingerprints, model, counts. Replaced atomically last,
  so a reader never sees a half-written generation.
- `dense-<n>.faiss`, `state-<n>.pkl`: the FAISS graph and everything else of generation n.
- `journal-<n>.jsonl`: single-item upserts and removals made since generation n was written;
  one line each, appended and flushed, replayed on load. Another process notices new lines
  by the file's size, and a new generation by the manifest's modification time.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from knowledge.documents import CatalogItem, Session
from knowledge.search.dense import DenseIndex
from knowledge.search.index import HybridIndex
from knowledge.search.lexical import LexicalIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    generation: int
    fingerprint: str  # items' content hashes + embedding model + format
    db_fingerprint: str  # the catalog's own fingerprint when built from the database, else ""
    model: str
    dimension: int
    count: int
    format: int = FORMAT_VERSION


@dataclass(frozen=True)
class Stamp:
    """What a running service compares on each query to notice changes made by another process."""

    manifest_mtime_ns: int
    journal_size: int


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the index folder across processes (writers only)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(folder: Path) -> Manifest | None:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if data.get("format") != FORMAT_VERSION:
        return None
    return Manifest(**data)


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
    The caller holds `folder_lock`."""
    previous = read_manifest(folder)
    generation = (previous.generation if previous else 0) + 1
    manifest = Manifest(**{**asdict(manifest), "generation": generation})
    index.dense.save(folder / f"dense-{generation}.faiss")
    state = {
        "items": index.items,
        "slot_of": index.slot_of,
        "hashes": index.hashes,
        "alive": index.alive,
        "latitude": index.latitude,
        "longitude": index.longitude,
        "columns": index.columns,
        "lexical": index.lexical.state(),
    }
    with open(folder / f"state-{generation}.pkl.tmp", "wb") as handle:
        pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(folder / f"state-{generation}.pkl.tmp", folder / f"state-{generation}.pkl")
    (folder / f"journal-{generation}.jsonl").touch()
    temporary = folder / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(asdict(manifest), indent=2))
    os.replace(temporary, folder / MANIFEST)
    for path in folder.iterdir():
        stem = path.name.split(".", 1)[0]
        number = stem.rsplit("-", 1)[1] if "-" in stem else ""
        if number.isdigit() and int(number) < generation:
            path.unlink(missing_ok=True)
    return manifest


def rewrite_manifest(folder: Path, manifest: Manifest, **changes: Any) -> Manifest:
    """Change manifest fields without writing a new generation (caller holds `folder_lock`)."""
    updated = Manifest(**{**asdict(manifest), **changes})
    temporary = folder / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(asdict(updated), indent=2))
    os.replace(temporary, folder / MANIFEST)
    return updated


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
    return index


def append_journal(folder: Path, generation: int, record: dict[str, Any]) -> int:
    """Append one change; return the journal's new size."""
    line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    with open(folder / f"journal-{generation}.jsonl", "ab") as handle:
        # Flushed for other processes, not fsynced: the database stays the source of truth, and
        # a line lost in a crash only makes the next ensure_index see a changed fingerprint.
        handle.write(line)
        handle.flush()
        return handle.tell()


def read_journal(folder: Path, generation: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete lines written after `offset`, and the offset after the last complete line."""
    try:
        with open(folder / f"journal-{generation}.jsonl", "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    records = [json.loads(line) for line in data[:end].splitlines() if line.strip()]
    return records, offset + end


def item_to_dict(item: CatalogItem) -> dict[str, Any]:
    return asdict(item)


def item_from_dict(data: dict[str, Any]) -> CatalogItem:
    values = dict(data)
    values["sessions"] = tuple(Session(**{**s, "days": tuple(s["days"])}) for s in data["sessions"])
    for name in ("topics", "languages", "audiences", "amenities", "accessibility"):
        values[name] = tuple(data.get(name) or ())
    return CatalogItem(**values)
