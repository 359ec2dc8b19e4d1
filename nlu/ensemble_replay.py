"""Choose the meaning ensemble's numbers on validation data, offline, before spending a training.

Usage: .venv/bin/python -m nlu.ensemble_replay [--model PATH] [--limit N]

A Rasa training takes 7-25 minutes; this takes a few. With one trained model it reads, in
the Rasa venv, DIET's own ranking of every validation utterance (the DIET node's output, before
any ensemble) and the sentence vector the featurizer gives every training and validation
utterance (centred on the model's stored mean, exactly as DIET and the ensemble see it). Then,
for every `regularisation` it fits the logistic regression the component fits
(`nlu.components.meaning_ensemble`), and for every `weight` it replays the combination
(`nlu.intent_combination.combine`) and lets `nlu.calibrate.choose_fallback` pick the fallback
threshold, as calibration would on the trained ensemble. It prints one row per pair: the
fallback chosen, in-scope accuracy, out-of-scope turned down in the worst language, the
rephrased validation split per language, confident-but-wrong and out-of-scope ending in a
state-changing intent. Weight 0 is the model as it is. Only validation data is read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from nlu.calibrate import Item, choose_fallback, fallback_reading
from nlu.eval_sources import (
    CONFIDENT,
    FALLBACK_INTENT,
    LANGUAGE_ORDER,
    OUT_OF_SCOPE,
    STATE_CHANGING,
    evaluation_sets,
)
from nlu.intent_combination import combine
from nlu.nlu_data import TRAINING_DIR, language_files, read_examples

REGULARISATIONS = [1.0, 3.0]
WEIGHTS = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9]
REPHRASED = "project rephrased (validation)"

# Runs in the Rasa venv: DIET's ranking and the featurizer's vector, per text.
_RASA_SIDE = r"""
import json, sys, logging
logging.basicConfig(level=logging.ERROR)
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

agent = Agent.load(sys.argv[1])
request = json.load(sys.stdin)
graph = agent.processor.graph_runner
nodes = list(agent.processor.model_metadata.predict_schema.nodes)
diet = next(n for n in nodes if n.startswith("run_DIETClassifier"))
featurizer = next(n for n in nodes if "SentenceEmbeddingFeaturizer" in n)

def vector(message):
    return [round(float(x), 6) for x in message.get_dense_features("text")[1].features.reshape(-1)]

answer = {"rankings": {}, "vectors": {}}
for text in request["rank"]:
    message = graph.run(inputs={"__message__": [UserMessage(text)]}, targets=[diet])[diet][0]
    answer["rankings"][text] = [[r["name"], r["confidence"]] for r in message.get("intent_ranking")]
    answer["vectors"][text] = vector(message)
for text in request["featurize"]:
    message = graph.run(inputs={"__message__": [UserMessage(text)]}, targets=[featurizer])
    answer["vectors"][text] = vector(message[featurizer][0])
sys.stdout.write("@@" + json.dumps(answer, ensure_ascii=False))
"""


def training_examples() -> list[tuple[str, str]]:
    """(text, intent) of every training utterance, as Rasa reads nlu/data."""
    found = []
    for folder in (
        TRAINING_DIR,
        TRAINING_DIR.parent / "near_misses",
        TRAINING_DIR.parent / "public",
    ):
        for path in language_files(folder):
            found += [(e.text, e.intent) for e in read_examples(path)]
    return found


def read_model(model: Path, rank: list[str], featurize: list[str]) -> dict[str, Any]:
    """DIET's rankings of `rank` and the featurizer's vectors of both lists (Rasa venv)."""
    import subprocess

    from core.settings import get_settings
    from nlu.nlu_data import REPOSITORY_ROOT
    from nlu.training import rasa_environment

    completed = subprocess.run(
        [str(get_settings().rasa_venv / "bin" / "python"), "-c", _RASA_SIDE, str(model)],
        input=json.dumps({"rank": rank, "featurize": featurize}, ensure_ascii=False),
        capture_output=True,
        text=True,
        env=rasa_environment(),
        cwd=REPOSITORY_ROOT,
        check=False,
    )
    if completed.returncode != 0 or "@@" not in completed.stdout:
        raise SystemExit(f"error: reading {model} failed:\n{completed.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(completed.stdout.split("@@", 1)[1])
    return answer


def replay(
    found: list[tuple[str, Item]], meaning: list[dict[str, float]], weight: float
) -> list[tuple[str, Item]]:
    """The validation items with their ranking replaced by the combined one."""
    replayed = []
    for (set_name, item), probabilities in zip(found, meaning, strict=True):
        if weight == 0.0:
            replayed.append((set_name, item))
            continue
        ranking = tuple(combine(dict(item.ranking), probabilities, weight)[:10])
        parsed = {
            **item.parsed,
            "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }
        replayed.append((set_name, Item(item.gold, item.language, parsed, ranking)))
    return replayed


def summary(rows: list[tuple[str, Item]]) -> dict[str, Any]:
    """The fallback calibration would choose, and the scores with it."""
    fallback = choose_fallback([item for _, item in rows])
    threshold, ambiguity = fallback["threshold"], fallback["ambiguity_threshold"]
    rephrased: dict[str, list[bool]] = {}
    wrong = state_changing = oos = 0
    for set_name, item in rows:
        intent, confidence = fallback_reading(item, threshold, ambiguity)
        predicted = OUT_OF_SCOPE if intent == FALLBACK_INTENT else intent
        wrong += predicted != item.gold and confidence >= CONFIDENT
        if item.gold == OUT_OF_SCOPE:
            oos += 1
            state_changing += intent in STATE_CHANGING
        if set_name == REPHRASED:
            rephrased.setdefault(item.language, []).append(predicted == item.gold)
    return {
        "fallback": f"{threshold:.2f}/{ambiguity:.2f}",
        "in_scope": fallback["in_scope_accuracy"],
        "oos_worst": fallback["worst"],
        "oos_turned_down": fallback["oos_turned_down"],
        "rephrased": {
            lang: round(sum(v) / len(v), 2)
            for lang, v in rephrased.items()
            if lang in LANGUAGE_ORDER
        },
        "confident_wrong": round(wrong / len(rows), 4),
        "oos_state_changing": round(state_changing / max(oos, 1), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nlu.ensemble_replay", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--model", type=Path, help="trained model (.tar.gz); default: newest")
    parser.add_argument("--limit", type=int, help="at most N utterances per file (a quick check)")
    args = parser.parse_args(argv)
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    from core.settings import get_settings
    from nlu.evaluate import newest_model

    model = args.model or newest_model(get_settings().models_dir)
    if model is None or not model.exists():
        print("error: no trained model; run `learncity train` or pass --model", file=sys.stderr)
        return 2
    sets = [
        s
        for s in evaluation_sets("validation", args.limit)
        if s.public or s.name in ("project held-out", REPHRASED)
    ]
    training = training_examples()
    rank = sorted({e.text for s in sets for e in s.examples})
    read = read_model(model, rank, sorted({text for text, _ in training} - set(rank)))
    vectors = read["vectors"]
    found = []
    for evaluation_set in sets:
        for example in evaluation_set.examples:
            ranking = tuple(
                (str(name), float(confidence))
                for name, confidence in read["rankings"][example.text]
                if name != FALLBACK_INTENT
            )
            parsed = {"intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}
            found.append(
                (evaluation_set.name, Item(example.intent, example.language, parsed, ranking))
            )
    train_x = np.array([vectors[text] for text, _ in training])
    train_y = [intent for _, intent in training]
    valid_x = np.array([vectors[e.text] for s in sets for e in s.examples])
    print(f"model {model.name}; validation {len(found)} utterances; training {len(training)}")
    for regularisation in REGULARISATIONS:
        regression = LogisticRegression(C=regularisation, max_iter=2000).fit(train_x, train_y)
        probabilities = [
            dict(zip(map(str, regression.classes_), row, strict=True))
            for row in regression.predict_proba(valid_x)
        ]
        for weight in WEIGHTS:
            scores = summary(replay(found, probabilities, weight))
            print(json.dumps({"regularisation": regularisation, "weight": weight, **scores}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
