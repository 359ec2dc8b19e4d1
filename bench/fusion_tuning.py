"""Choose the fusion weights on a validation split of labelled questions; report the rest.

    .venv/bin/python -m bench.fusion_tuning
    .venv/bin/python -m bench.fusion_tuning --matched [--model NAME]   # bench/matched_tuning.py
    .venv/bin/python -m bench.fusion_tuning --matched-model            # bench/matched_model.py
    .venv/bin/python -m bench.fusion_tuning --matched-passages [--public-only]  # matched_passages.py

Questions: tests/knowledge/labelled_queries.yml over the sample city, split by position
(even: validation, odd: held out), the real catalog's labelled questions
(tests/knowledge/real_queries.yml: its `validation` split chooses, its `test` split is held
out), and the names and addresses of the synthetic library branches
(tests/knowledge/library_branches.py), whose named branch must come first. Each weight
setting is scored on the validation questions of both catalogs together (recall@5) and on
the named branches (hit@1); the best one that puts every named branch first is reported with
its held-out recall@5 on each catalog, next to the current defaults
(knowledge/search/fusion.py DEFAULT_WEIGHTS).
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
    parser.add_argument(
        "--matched-model",
        action="store_true",
        help="fit the learned unmet-demand decision on validation (bench/matched_model.py)",
    )
    parser.add_argument(
        "--matched-passages",
        action="store_true",
        help="passage-level and null-calibrated evidence for unmet demand (matched_passages.py)",
    )
    parser.add_argument(
        "--public-only",
        action="store_true",
        help="with --matched-passages: unrelated text from nlu/data/public only, no Tatoeba sample",
    )
    parser.add_argument("--model", help="EMBEDDING_MODEL (default: the settings')")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["LEARNCITY_DATA_DIR"] = tempfile.mkdtemp(prefix="fusion-tuning-")
    sys.path.insert(0, str(REPOSITORY))
    if args.matched_passages:
        from bench.matched_passages import main as measure_passages

        return measure_passages(args.model, tatoeba=not args.public_only)
    if args.matched_model:
        from bench.matched_model import main as fit_matched_model

        return fit_matched_model(args.model)
    if args.matched:
        from bench.matched_tuning import main as tune_matched

        return tune_matched(args.model)
    from bench.search_catalog import labelled_queries, recall_at, sample_city_items
    from bench.search_quality import real_catalog_items, real_queries
    from knowledge.search import SearchService
    from knowledge.search.fusion import DEFAULT_WEIGHTS, FusionWeights
    from tests.knowledge.library_branches import ALBION_ID, library_branches

    data = Path(os.environ["LEARNCITY_DATA_DIR"])
    city = SearchService(data / "city", args.model)
    city.build(sample_city_items())
    real = SearchService(data / "real", args.model)
    real.build(real_catalog_items())
    branches = library_branches()
    library = SearchService(data / "library", args.model)
    library.build(branches)
    print(f"model {city.model_name}", flush=True)
    answerable = [q for q in labelled_queries() if q.relevant]
    # (service, question, language, relevant): the sample city's even questions and the real
    # catalog's validation split choose; the rest is reported.
    city_questions = [(city, q.query, None, q.relevant) for q in answerable]
    real_questions = {
        split: [
            (real, q.query, q.language, q.relevant)
            for q in real_queries()
            if q.relevant and q.split == split
        ]
        for split in ("validation", "test")
    }
    validation = city_questions[0::2] + real_questions["validation"]
    held_out = {
        "sample city odd half": city_questions[1::2],
        "real test split": real_questions["test"],
    }
    named = (
        [(b.name, b.id) for b in branches]
        + [(f"{b.name} library", b.id) for b in branches[::10]]
        + [("library at 1515 Albion Road", ALBION_ID), ("1515 Albion Rd", ALBION_ID)]
    )

    def recall(questions, weights: FusionWeights) -> float:
        values = [
            recall_at(
                [
                    r.item.id
                    for r in service.search(text, limit=5, language=language, weights=weights)
                ],
                relevant,
            )
            for service, text, language, relevant in questions
        ]
        return sum(values) / len(values)

    def names_first(weights: FusionWeights) -> float:
        hits = [
            [r.item.id for r in library.search(question, limit=1, weights=weights)] == [wanted]
            for question, wanted in named
        ]
        return sum(hits) / len(hits)

    rows = []
    for dense, names in itertools.product((0.25, 0.5, 0.75, 1.0, 1.5), (0.5, 1.0, 1.5, 2.0, 3.0)):
        weights = FusionWeights(lexical=1.0, dense=dense, names=names)
        rows.append((recall(validation, weights), names_first(weights), weights))
        print(
            f"dense {dense:.2f} names {names:.2f}: validation recall@5 {rows[-1][0]:.4f}, "
            f"named branch first {rows[-1][1]:.3f}",
            flush=True,
        )
    eligible = [row for row in rows if row[1] == 1.0] or rows
    best = max(eligible, key=lambda row: (row[0], row[1]))
    for name, weights in (("best on validation", best[2]), ("defaults", DEFAULT_WEIGHTS)):
        reported = ", ".join(f"{part} {recall(qs, weights):.4f}" for part, qs in held_out.items())
        print(
            f"{name} {weights}: validation recall@5 {recall(validation, weights):.4f}; "
            f"held out: {reported}; names first {names_first(weights):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
