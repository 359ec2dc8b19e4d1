"""Search quality on a second real catalog, in Spanish: the 58 Buenos Aires city libraries.

    .venv/bin/python -m bench.buenos_aires          # or: python -m bench buenos-aires

The whole file as the city publishes it (tests/knowledge/data/buenos_aires/
bibliotecas_completo.csv, CC BY 2.5 AR) is read by the project's importer with its column
map (columns_completo.yml), indexed with the configured embedding model, and asked the labelled
questions of tests/knowledge/buenos_aires_queries.yml (seven languages, each with its kind and
split) in each mode (dense only, lexical only, hybrid), each with its language as the chat asks it.
Prints recall@5 / hit@5 per kind, language and split, unmet-demand precision and recall, and
writes bench/results/search_quality_buenos_aires-latest.json.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
DATA = REPOSITORY / "tests" / "knowledge" / "data" / "buenos_aires"
CATALOG = DATA / "bibliotecas_completo.csv"
COLUMN_MAP = DATA / "columns_completo.yml"  # columns.yml with `web: extra`: see there
QUERIES = REPOSITORY / "tests" / "knowledge" / "buenos_aires_queries.yml"
CATALOG_LANGUAGE = "es"


def catalog_items() -> list[Any]:
    """The whole published file as the importer reads it with its column map, in row order."""
    from knowledge.importers import CsvReading, load_column_map, read_file

    parsed = read_file(CATALOG, CsvReading(columns=load_column_map(COLUMN_MAP)))
    if parsed.rejected:
        raise ValueError(f"{CATALOG.name}: rejected rows {parsed.rejected}")
    return list(parsed.items)


def _label_sets(items: Sequence[Any]) -> dict[str, tuple[str, ...]]:
    """What each label stands for, from the file's own columns (`nam`, `bar`, `tip`)."""
    with CATALOG.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if len(rows) != len(items):
        raise ValueError(f"{CATALOG.name}: {len(rows)} rows but {len(items)} items")
    groups: dict[str, list[str]] = {}

    def add(label: str, item_id: str) -> None:
        groups.setdefault(label, []).append(item_id)

    for row, item in zip(rows, items, strict=True):
        add(row["nam"], item.id)
        add(f"barrio:{row['bar']}", item.id)
        add("popular" if row["tip"].endswith("Popular") else "publica", item.id)
        add("all", item.id)
        if "Anexo Infantil" in row["nam"]:
            add("anexo", item.id)
        if "Infanto Juvenil" in row["nam"]:
            add("infantojuvenil", item.id)
        if "Infantil" in row["nam"] or "Infanto" in row["nam"]:
            add("infantil", item.id)
    return {label: tuple(ids) for label, ids in groups.items()}


def labelled_queries(items: Sequence[Any] | None = None, path: Path = QUERIES) -> list[Any]:
    """The labelled questions, each label expanded to item ids; an unknown label is an error
    naming the question."""
    from bench.search_quality import RealQuery

    groups = _label_sets(catalog_items() if items is None else items)
    queries = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]:
        unknown = [label for label in entry["relevant"] if label not in groups]
        if unknown:
            raise ValueError(f"{path.name}: {entry['query']!r}: unknown labels {unknown}")
        relevant = [item_id for label in entry["relevant"] for item_id in groups[label]]
        queries.append(RealQuery.from_entry(entry, relevant))
    return queries


def measure(service: Any, queries: Sequence[Any]) -> dict[str, Any]:
    """Every question in each mode over one built index."""
    from bench.search_quality import MODES, evaluate

    return {mode: evaluate(service, queries, mode, CATALOG_LANGUAGE) for mode in MODES}


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LEARNCITY_MODELS_DIR", str(REPOSITORY / ".data" / "models"))
    os.environ["LEARNCITY_DATA_DIR"] = tempfile.mkdtemp(prefix="search-quality-ba-")
    sys.path.insert(0, str(REPOSITORY))
    from bench.report import print_table, write_results
    from bench.search_quality import MODES, _commit
    from knowledge.search import SearchService

    started = time.perf_counter()
    items = catalog_items()
    service = SearchService(Path(os.environ["LEARNCITY_DATA_DIR"]) / "index")
    service.build(items)
    modes = measure(service, labelled_queries(items))
    names = list(modes["hybrid"]["sets"])
    rows = [
        [name, modes["hybrid"]["sets"][name]["n"]]
        + [
            f"{modes[mode]['sets'][name][metric]:.3f}"
            for metric in ("recall@5", "hit@5")
            for mode in MODES
        ]
        for name in names
    ]
    header = ["set", "n"] + [f"{metric} {mode}" for metric in ("R@5", "hit@5") for mode in MODES]
    print_table(f"Buenos Aires libraries ({service.embedder.backend})", header, rows)
    unmet_rows = [
        [mode, modes[mode]["unmet"]["precision"], modes[mode]["unmet"]["recall"]]
        + [f"{c['precision']} / {c['recall']}" for c in modes[mode]["unmet"]["by_split"].values()]
        for mode in MODES
    ]
    splits = list(modes["hybrid"]["unmet"]["by_split"])
    print_table("unmet demand", ["mode", "precision", "recall", *splits], unmet_rows)
    for miss in modes["hybrid"]["misses"]:
        print(f"  missed (hybrid): {miss['query']} [{miss['kind']}] top {miss['top']}")
    seconds = round(time.perf_counter() - started, 1)
    print(f"\n{seconds} s; measured at commit {_commit()}; load {os.getloadavg()}")
    result = {
        "commit": _commit(),
        "catalog": str(CATALOG.relative_to(REPOSITORY)),
        "queries": str(QUERIES.relative_to(REPOSITORY)),
        "backend": service.embedder.backend,
        "modes": modes,
        "seconds": seconds,
        "load_average": os.getloadavg(),
    }
    print(f"results: {write_results('search_quality_buenos_aires', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
