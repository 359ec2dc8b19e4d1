"""The disk cache of catalog vectors: what one writer stored, every reader finds, whatever a crash
left behind; a different model never reads another's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knowledge.search.vector_cache import DIGEST_BYTES, VectorCache


def _vectors(count: int, dimension: int = 8, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_vectors_stored_by_one_writer_are_found_by_a_reader_opened_earlier(tmp_path: Path):
    texts = ["Pottery for beginners", "陶艺入门", "Гончарство для початківців"]
    reader = VectorCache(tmp_path, "model-a", 8)
    assert reader.lookup(texts)[1] == [0, 1, 2]
    VectorCache(tmp_path, "model-a", 8).add(texts, _vectors(3))

    found, missing = reader.lookup([texts[2], "something new", texts[0]])
    assert missing == [1]
    np.testing.assert_array_equal(found[[0, 2]], _vectors(3)[[2, 0]])


def test_a_rewritten_text_reads_its_latest_vector(tmp_path: Path):
    cache = VectorCache(tmp_path, "model-a", 8)
    cache.add(["Chess club"], _vectors(1, seed=1))
    cache.add(["Chess club"], _vectors(1, seed=2))
    np.testing.assert_array_equal(cache.lookup(["Chess club"])[0], _vectors(1, seed=2))
    assert len(cache) == 1


def test_a_torn_last_record_is_ignored_then_cut_off_by_the_next_writer(tmp_path: Path):
    cache = VectorCache(tmp_path, "model-a", 8)
    cache.add(["Yoga", "Erhu"], _vectors(2))
    with cache.path.open("ab") as handle:  # a crash in the middle of a write
        handle.write(b"\x01" * (DIGEST_BYTES + 5))
    assert VectorCache(tmp_path, "model-a", 8).lookup(["Yoga", "Erhu"])[1] == []

    cache.add(["Tai Chi"], _vectors(1, seed=3))
    again = VectorCache(tmp_path, "model-a", 8)
    found, missing = again.lookup(["Yoga", "Erhu", "Tai Chi"])
    assert (missing, len(again)) == ([], 3)
    np.testing.assert_array_equal(found[2], _vectors(1, seed=3)[0])
    assert cache.path.stat().st_size == 3 * (DIGEST_BYTES + 4 * 8)


def test_another_model_or_dimension_never_reads_these_vectors(tmp_path: Path):
    VectorCache(tmp_path, "model-a", 8).add(["Yoga"], _vectors(1))
    assert VectorCache(tmp_path, "model-b", 8).lookup(["Yoga"])[1] == [0]
    assert VectorCache(tmp_path, "model-a", 16).lookup(["Yoga"])[1] == [0]


def test_digests_ending_in_zero_bytes_are_kept_whole(tmp_path: Path):
    """A numpy bytes column drops trailing zero bytes; the cache must not lose such digests."""
    text = next(
        f"item {n}" for n in range(100_000) if VectorCache.digest(f"item {n}").endswith(b"\x00")
    )
    cache = VectorCache(tmp_path, "model-a", 8)
    cache.add([text], _vectors(1))
    assert VectorCache(tmp_path, "model-a", 8).lookup([text])[1] == []


def test_an_unwritable_cache_folder_costs_re_embedding_not_the_import(
    tmp_path, monkeypatch, caplog
):
    from core.settings import get_settings
    from knowledge.search.embedding import get_embedder

    blocked = tmp_path / "models"
    blocked.write_text("a file where the models folder should be")
    monkeypatch.setenv("LEARNCITY_MODELS_DIR", str(blocked))
    get_settings.cache_clear()
    try:
        embedder = get_embedder()
        texts = [f"Chess club, group {n}" for n in range(6)]
        with caplog.at_level("WARNING", logger="knowledge.search.embedding"):
            vectors = embedder.encode(texts)
    finally:
        get_settings.cache_clear()
    assert vectors.shape == (6, embedder.dimension)
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == [
        "catalog vectors not cached"
    ]
