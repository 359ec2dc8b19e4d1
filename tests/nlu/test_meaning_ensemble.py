"""The meaning ensemble: DIET's ranking combined with a logistic regression on the e5 vector.

The combination rule is checked on its own (pure numpy), then a real tiny Rasa pipeline is
trained with the component, stored, loaded back and run: the ranking it answers must be the
rule applied to what DIET said in the same graph and to the weights stored in the model."""

from __future__ import annotations

import math

import pytest

from nlu.intent_combination import FLOOR, combine
from tests.nlu.rasa_venv import run_in_rasa_venv


def test_agreement_keeps_the_confidence_and_disagreement_lowers_it():
    words = {"unsubscribe_events": 0.97, "out_of_scope": 0.02, "greet": 0.01}
    agree = combine(words, {"unsubscribe_events": 0.9, "out_of_scope": 0.1}, 0.5)
    disagree = combine(words, {"unsubscribe_events": 0.05, "out_of_scope": 0.95}, 0.5)
    assert agree[0][0] == "unsubscribe_events" and agree[0][1] > 0.95
    assert disagree[0][1] < 0.7  # from 0.97: near the fallback threshold, and the guard asks
    assert math.isclose(sum(c for _, c in disagree), 1.0)


def test_an_intent_one_reading_left_out_counts_as_the_floor_not_zero():
    ranking = dict(combine({"greet": 1.0}, {"help": 1.0}, 0.5))
    assert math.isclose(ranking["greet"], ranking["help"])
    assert FLOOR > 0


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_weight_zero_is_the_words_reading_and_one_the_meaning_reading(weight):
    words, meaning = {"greet": 0.8, "help": 0.2}, {"greet": 0.3, "help": 0.7}
    expected = words if weight == 0.0 else meaning
    assert {n: round(c, 6) for n, c in combine(words, meaning, weight)} == pytest.approx(expected)


_TRAIN_LOAD_AND_PARSE = r"""
import asyncio, json, sys, tarfile, tempfile
from pathlib import Path

import numpy as np
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.model_training import train_nlu

from nlu.intent_combination import combine, softmax

work = Path(tempfile.mkdtemp())
(work / "config.yml").write_text('''
recipe: default.v1
language: zh
assistant_id: meaning_ensemble_test
pipeline:
  - name: nlu.components.multilingual_tokenizer.MultilingualTokenizer
  - name: CountVectorsFeaturizer
  - name: nlu.components.sentence_featurizer.SentenceEmbeddingFeaturizer
    model: multilingual-e5-small-q4
  - name: DIETClassifier
    epochs: 60
    number_of_transformer_layers: 0
    embedding_dimension: 20
    random_seed: 7
  - name: nlu.components.meaning_ensemble.MeaningEnsembleClassifier
    weight: 0.5
    regularisation: 1.0
''')
(work / "nlu.yml").write_text('''
version: "3.1"
nlu:
- intent: unsubscribe_events
  examples: |
    - stop the festival news
    - stop sending me event messages
    - stop all the newsletters
    - 别再发活动消息了
    - 退订学习节通知
- intent: search_course
  examples: |
    - I want a pottery class
    - are there English courses?
    - where can I learn to cook
    - 我想学陶艺
    - 有英语课吗
- intent: out_of_scope
  examples: |
    - turn on the kitchen light
    - set an alarm for seven
    - what's the weather like
    - 把灯打开
    - 定一个七点的闹钟
''')
model = train_nlu(str(work / "config.yml"), str(work / "nlu.yml"), str(work / "models"))
agent = Agent.load(model)
texts = json.load(sys.stdin)
graph = agent.processor.graph_runner
nodes = list(agent.processor.model_metadata.predict_schema.nodes)
diet_node = next(n for n in nodes if n.startswith("run_DIETClassifier"))
ensemble_node = next(n for n in nodes if "MeaningEnsembleClassifier" in n)

with tarfile.open(model) as archive:
    member = next(m for m in archive.getmembers() if m.name.endswith("meaning_weights.npz"))
    archive.extract(member, work)
stored = np.load(work / member.name)
intents = [str(i) for i in stored["intents"]]

answers = []
for text in texts:
    # Two runs: the ensemble changes the message DIET answered in place.
    diet = graph.run(inputs={"__message__": [UserMessage(text)]}, targets=[diet_node])
    words = {r["name"]: r["confidence"] for r in diet[diet_node][0].get("intent_ranking")}
    outputs = graph.run(inputs={"__message__": [UserMessage(text)]}, targets=[ensemble_node])
    ensemble = outputs[ensemble_node][0]
    vector = np.asarray(ensemble.get_dense_features("text")[1].features).reshape(-1)
    meaning = dict(zip(intents, softmax(stored["coef"] @ vector + stored["intercept"])))
    parsed = asyncio.run(agent.parse_message(text))
    answers.append({
        "words": words,
        "expected": combine(words, meaning, 0.5)[:10],
        "ranking": [[r["name"], r["confidence"]] for r in ensemble.get("intent_ranking")],
        "parsed": [parsed["intent"]["name"], parsed["intent"]["confidence"]],
    })
print("@@" + json.dumps({"intents": intents, "answers": answers}))
"""

TEXTS = ["stop the kitchen timer", "I want an English course", "把厨房的灯关掉"]


@pytest.fixture(scope="module")
def trained() -> dict:
    return run_in_rasa_venv(_TRAIN_LOAD_AND_PARSE, stdin=TEXTS)


def test_the_model_stores_the_regression_for_every_trained_intent(trained):
    assert trained["intents"] == ["out_of_scope", "search_course", "unsubscribe_events"]


def test_the_loaded_model_answers_the_rule_applied_to_diet_and_the_stored_regression(trained):
    for answer in trained["answers"]:
        assert [name for name, _ in answer["ranking"]] == [n for n, _ in answer["expected"]]
        for (_, confidence), (_, expected) in zip(
            answer["ranking"], answer["expected"], strict=True
        ):
            assert confidence == pytest.approx(expected, abs=1e-6)
        assert answer["parsed"][0] == answer["ranking"][0][0]
        assert answer["parsed"][1] == pytest.approx(answer["ranking"][0][1], abs=1e-6)
