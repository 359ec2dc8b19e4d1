"""The index follows the catalog item by item: re-imports, prunes, first updates, damaged files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import knowledge
from core.database import session_scope, upgrade_database
from core.settings import get_settings
from knowledge.search import SearchService
from knowledge.search import service as search_service
from knowledge.search.dense import DenseIndex
from tests.knowledge.search_support import NEW_COURSE, item_id

HEADER = "id,type,name,description,topics,district,latitude,longitude,days,start_time,end_time\n"
POTTERY = "lc-pottery,course,Pottery for beginners,Clay and the wheel,pottery,Nanhu,31.16,121.48,sat,09:30,12:00"
POTTERY_CHANGED = (
    "lc-pottery,course,Pottery for beginners,Clay and the wheel; glazing and kiln firing,"
    "pottery,Nanhu,31.16,121.48,sat,09:30,12:00"
)
CHESS = (
    "lc-chess,course,Chess club,Openings and tactics,chess,Dongcheng,31.23,121.47,wed,19:00,21:00"
)
ERHU = (
    "lc-erhu,course,Erhu lessons,The two-stringed fiddle,erhu,Xicheng,31.22,121.41,mon,18:30,20:00"
)
YOGA = "lc-yoga,course,Morning yoga,Stretching and breathing,yoga,Jiangbin,31.23,121.48,tue,07:00,08:00"
BEES = "lc-bees,course,Urban beekeeping,Rooftop hives and honey,beekeeping,Beishan,31.29,121.46,sun,10:00,12:00"


def _ids(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [result.item.id for result in results]


@pytest.fixture
def catalog_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Settings pointing at a temp data folder and a fresh SQLite catalog; yields its URL."""
    monkeypatch.setenv("LEARNCITY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'catalog.db'}")
    get_settings.cache_clear()
    try:
        url = get_settings().sqlalchemy_url
        upgrade_database(url)
        yield url
    finally:
        get_settings.cache_clear()


def _import(url: str, path: Path, rows: list[str]) -> knowledge.ImportSummary:
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    with session_scope(url) as session:
        return knowledge.import_catalog(path, session=session, prune=True)


def test_reimport_with_prune_syncs_the_index_item_by_item(catalog_database: str, tmp_path: Path):
    catalog = tmp_path / "city" / "courses.csv"
    catalog.parent.mkdir()
    _import(catalog_database, catalog, [POTTERY, CHESS, ERHU, YOGA])
    first = knowledge.ensure_index_from_database()
    assert first.rebuilt and first.added == 4
    service = knowledge.get_search_service()
    generation, embedded = service.generation, service.embedded_count
    server = SearchService(service.index_dir)  # stands for the running assistant's process
    assert server.load() and server.item_count() == 4

    imported = _import(catalog_database, catalog, [POTTERY_CHANGED, CHESS, YOGA, BEES])
    assert (imported.added, imported.updated, imported.removed) == (1, 1, 1)
    synced = knowledge.ensure_index_from_database()

    assert (synced.added, synced.updated, synced.removed, synced.unchanged) == (1, 1, 1, 2)
    assert not synced.rebuilt and not synced.reindexed
    assert re.fullmatch(r"index: 1 added, 1 updated, 1 removed in \d+ ms", str(synced))
    assert service.embedded_count == embedded + 2  # the new and the changed item, nothing else
    assert service.build_count == 1 and service.generation == generation
    for searcher in (service, server):
        assert _ids(searcher.search("beekeeping", limit=1)) == ["lc-bees"]
        assert _ids(searcher.search("kiln firing", limit=1)) == ["lc-pottery"]
        assert "lc-erhu" not in _ids(searcher.search("erhu", limit=5))
        assert searcher.item_count() == 4
    assert server.embedded_count == 0  # it read the new vectors from the journal

    again = knowledge.ensure_index_from_database()
    assert again.changed == 0 and again.unchanged == 4 and not again.rebuilt
    assert service.embedded_count == embedded + 2


def test_catalog_texts_are_embedded_once_whatever_happens_to_the_index(
    catalog_database: str, tmp_path: Path
):
    """Re-importing an unchanged catalog embeds nothing; one changed item embeds its own
    passages; a lost index is rebuilt from the vectors cached on disk, embedding nothing again."""
    catalog = tmp_path / "city" / "courses.csv"
    catalog.parent.mkdir()
    _import(catalog_database, catalog, [POTTERY, CHESS, ERHU, YOGA, BEES])
    assert knowledge.ensure_index_from_database().added == 5
    embedder = knowledge.get_search_service().embedder
    encoded = embedder.encoded_count

    _import(catalog_database, catalog, [POTTERY, CHESS, ERHU, YOGA, BEES])
    unchanged = knowledge.ensure_index_from_database()
    assert (unchanged.changed, unchanged.rebuilt, embedder.encoded_count) == (0, False, encoded)

    _import(catalog_database, catalog, [POTTERY_CHANGED, CHESS, ERHU, YOGA, BEES])
    changed = knowledge.ensure_index_from_database()
    # the changed item's two passages (heading, description: item_vectors.py), nothing else
    assert (changed.updated, embedder.encoded_count) == (1, encoded + 2)

    for path in get_settings().index_dir.iterdir():  # the index folder is lost
        path.unlink()
    rebuilt = knowledge.ensure_index_from_database()
    assert (rebuilt.rebuilt, rebuilt.added, embedder.encoded_count) == (True, 5, encoded + 2)
    restarted = SearchService(get_settings().index_dir)
    assert _ids(restarted.search("kiln firing", limit=1)) == ["lc-pottery"]


def test_a_loaded_dense_index_has_room_for_the_next_vector(tmp_path: Path):
    """After a load, FAISS holds its vectors in buffers of exactly their size; the first add
    used to copy all of them into a bigger one (~75-400 ms at 100,000 items)."""
    vectors = np.random.default_rng(7).standard_normal((500, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    built = DenseIndex(384)
    built.add(vectors)
    built.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss", 384)
    address = loaded.vectors().__array_interface__["data"][0]
    for vector in vectors[:8]:
        loaded.add(vector[None, :] * -1)
        assert loaded.vectors().__array_interface__["data"][0] == address  # nothing copied
    assert loaded.search(vectors[0] * -1, 1)[0].tolist() == [500]


def test_first_update_on_a_loaded_index_is_searchable_and_needs_no_embedding_to_replay(
    fresh_service,
):
    loaded = SearchService(fresh_service.index_dir)
    assert loaded.load()
    loaded.upsert(NEW_COURSE)
    assert loaded.embedded_count == 1
    assert _ids(loaded.search("beekeeping", limit=1)) == [NEW_COURSE.id]
    restarted = SearchService(fresh_service.index_dir)
    assert restarted.load()
    assert _ids(restarted.search("beekeeping", limit=1)) == [NEW_COURSE.id]
    assert restarted.embedded_count == 0


_FIRST_UPDATE_READS = """
import json, sys
import wordfreq
from knowledge.city import _load as read_city_file
from knowledge.search import SearchService
from tests.knowledge.search_support import NEW_COURSE

service = SearchService(sys.argv[1])
assert service.load()
reads = lambda: (wordfreq.get_frequency_list.cache_info().misses,
                 read_city_file.cache_info().misses)
before = reads()
service.upsert(NEW_COURSE)
for question, language in [("apiculture urbaine", "fr"), ("apicultura", "es"),
                           ("бджільництво", "uk"), ("пчеловодство", "ru")]:
    service.search(question, limit=3, language=language)
print(json.dumps({"before": before, "after": reads()}))
"""


def test_the_first_update_and_questions_after_a_load_read_no_word_list_or_city_file(
    fresh_service,
):
    """Loading pays the one-time reads (each language's word list, the city file), so the
    first update after a start costs what later ones do (at 20k items: 101 ms of CPU against
    57 before, now ~60)."""
    import subprocess
    import sys

    finished = subprocess.run(
        [sys.executable, "-c", _FIRST_UPDATE_READS, str(fresh_service.index_dir)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    reads = json.loads(finished.stdout.strip().splitlines()[-1])
    assert reads["after"] == reads["before"]


def test_changed_embedding_model_rebuilds_everything(fresh_service, sample_items):
    manifest_path = fresh_service.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "model": "some-other-model|torch"}))
    restarted = SearchService(fresh_service.index_dir)
    summary = restarted.ensure_index(sample_items)
    assert summary.rebuilt and "embedding model changed" in summary.reason
    assert restarted.embedded_count == len(sample_items)
    assert str(summary).startswith("index: built from scratch (embedding model changed")


def test_damaged_index_files_are_rebuilt_from_the_catalog(fresh_service, sample_items):
    state = fresh_service.index_dir / f"state-{fresh_service.generation}.pkl"
    state.write_bytes(state.read_bytes()[:1000])
    restarted = SearchService(fresh_service.index_dir)
    assert not restarted.load()
    summary = restarted.ensure_index(sample_items)
    assert summary.rebuilt and "unreadable" in summary.reason
    assert item_id("courses/erhu") in _ids(restarted.search("二胡", limit=5))


def test_a_torn_journal_line_is_cut_off_and_later_changes_survive(fresh_service):
    journal = fresh_service.index_dir / f"journal-{fresh_service.generation}.jsonl"
    with open(journal, "ab") as handle:
        handle.write(b'{"op":"upsert","item":{"id":"half-writ')  # a crash mid-append
    fresh_service.upsert(NEW_COURSE)
    lines = journal.read_bytes().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["item"]["id"] == NEW_COURSE.id
    restarted = SearchService(fresh_service.index_dir)
    assert restarted.load()
    assert _ids(restarted.search("beekeeping", limit=1)) == [NEW_COURSE.id]


def test_compact_drops_retired_slots_and_embeds_nothing(fresh_service, sample_items):
    for number in range(5):
        fresh_service.upsert(replace(NEW_COURSE, description=f"Version {number} of the course."))
    fresh_service.remove(sample_items[0].id)
    generation, embedded = fresh_service.generation, fresh_service.embedded_count
    assert fresh_service._index.retired == 5  # four old versions and the removed item
    fresh_service.compact()
    assert fresh_service.generation == generation + 1
    assert fresh_service._index.retired == 0
    assert fresh_service.embedded_count == embedded
    assert fresh_service.item_count() == len(sample_items)  # one added, one removed
    assert _ids(fresh_service.search("beekeeping", limit=1)) == [NEW_COURSE.id]
    assert sample_items[0].id not in _ids(fresh_service.search(sample_items[0].name, limit=10))
    restarted = SearchService(fresh_service.index_dir)
    assert restarted.load() and restarted.item_count() == len(sample_items)


def test_many_changes_go_into_a_new_generation_not_the_journal(
    fresh_service, sample_items, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(search_service, "JOURNAL_COMPACT_AFTER", 2)
    other = SearchService(fresh_service.index_dir)
    assert other.load()
    generation, embedded = fresh_service.generation, fresh_service.embedded_count
    renamed = [replace(item, name=f"{item.name} (renamed)") for item in sample_items[:3]]
    summary = fresh_service.ensure_index(renamed + sample_items[3:] + [NEW_COURSE])
    assert (summary.added, summary.updated, summary.removed) == (1, 3, 0)
    assert not summary.rebuilt and fresh_service.embedded_count == embedded + 4
    assert fresh_service.generation == generation + 1
    assert (fresh_service.index_dir / f"journal-{generation + 1}.jsonl").read_bytes() == b""
    assert not (fresh_service.index_dir / f"state-{generation}.pkl").exists()
    assert _ids(other.search("beekeeping", limit=1)) == [NEW_COURSE.id]  # reloaded
    assert other.generation == generation + 1 and other.embedded_count == 0
