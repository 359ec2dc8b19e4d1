"""Choose the fusion weights on a validation split of labelled questions; report the rest.

    .venv/bin/python -m bench.fusion_tuning
    .venv/bin/python -m bench.fusion_tuning --matched [--model NAME]   # bench/matched_tuning.py

Questions: tests/knowledge/labelled_queries.yml over the sample city, split by position
(even: validation, odd: held-out test), and the names and addresses of the synthetic library
branches (tests/knowledge/library_branches.py), whose named branch must come first. Each
weight setting is scored on the validation half (recall@5, exact-name hit@1); the best one
that puts every named branch first is reported with its held-out recall@5, next to the
current defaults (knowledge/search/fusion.py DEFAULT_WEIGHTS).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matched", action="store_true", help="calibrate `matched` instead")
    parser.add_argument("--model", help="EMBEDDING_MODEL for --matched (default: the settings')")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["LEARNCITY_DATA_DIR"] = tempfile.mkdtemp(prefix="fusion-tuning-")
    sys.path.insert(0, str(REPOSITORY))
    if args.matched:
        from bench.matched_tuning import main as tune_matched

        return tune_matched(args.model)
    from bench.search_catalog import labelled_queries, recall_at, sample_city_items
    from knowledge.search import SearchService
    from knowledge.search.fusion import DEFAULT_WEIGHTS, FusionWeights
    from tests.knowledge.library_branches import ALBION_ID, library_branches

    data = Path(os.environ["LEARNCITY_DATA_DIR"])
    city = SearchService(data / "city")
    city.build(sample_city_items())
    branches = library_branches()
    library = SearchService(data / "library")
    library.build(branches)
    answerable = [q for q in labelled_queries() if q.relevant]
    validation, held_out = answerable[0::2], answerable[1::2]
    named = (
        [(b.name, b.id) for b in branches]
        + [(f"{b.name} library", b.id) for b in branches[::10]]
        + [("library at 1515 Albion Road", ALBION_ID), ("1515 Albion Rd", ALBION_ID)]
    )

    def recall(questions, weights: FusionWeights) -> float:
        values = [
            recall_at(
                [r.item.id for r in city.search(q.query, limit=5, weights=weights)], q.relevant
            )
            for q in questions
        ]
        return sum(values) / len(values)

    def names_first(weights: FusionWeights) -> float:
        hits = [
            [r.item.id for r in library.search(question, limit=1, weights=weights)] == [wanted]
            for question, wanted in named
        ]
        return sum(hits) / len(hits)

    rows = []
    for dense, names in itertools.product((0.0, 0.25, 0.5, 0.75, 1.0), (0.0, 0.5, 1.0, 1.5)):
        weights = FusionWeights(lexical=1.0, dense=dense, names=names)
        rows.append((recall(validation, weights), names_first(weights), weights))
        print(
            f"dense {dense:.2f} names {names:.2f}: validation recall@5 {rows[-1][0]:.4f}, "
            f"named branch first {rows[-1][1]:.3f}",
            flush=True,
        )
    eligible = [row for row in rows if row[1] == 1.0] or rows
    best = max(eligible, key=lambda row: (row[0], row[1]))
    print(f"best on validation: {best[2]} -> held-out recall@5 {recall(held_out, best[2]):.4f}")
    print(
        f"defaults {DEFAULT_WEIGHTS}: validation {recall(validation, DEFAULT_WEIGHTS):.4f}, "
        f"held-out {recall(held_out, DEFAULT_WEIGHTS):.4f}, "
        f"all {recall(answerable, DEFAULT_WEIGHTS):.4f}, names first {names_first(DEFAULT_WEIGHTS):.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
