"""How far the embedding model can be trusted to call two questions the same topic, for the
planners' unmet-demand groups (knowledge/unmet_groups.py: SAME_TOPIC_COSINE).

    .venv/bin/python -m bench.unmet_grouping_eval [--model multilingual-e5-small-q4]

Data: the topic glossary (knowledge/glossary.yml, project-written): each concept's terms in
seven languages are the same topic; terms of different concepts are different topics. The
concepts are split in two at random (seed 3); the threshold is the lowest cosine whose
precision on the training half reaches 0.99, and precision and recall are then reported on
the held-out half, which the choice never saw. Pairs are of terms in different languages
(the glossary itself already merges a concept's terms; the model is asked about the rest).
"""

from __future__ import annotations

import argparse
import random
import sys
from typing import Any

import numpy as np

from bench.report import print_table, write_results

THRESHOLDS = (0.86, 0.88, 0.90, 0.91, 0.92, 0.93, 0.94)
WANTED_PRECISION = 0.99
TERMS_PER_LANGUAGE = 2


def _terms(glossary: Any, concepts: list[str]) -> list[tuple[str, str, str]]:
    return [
        (concept, language, term)
        for concept in concepts
        for language, terms in glossary.concepts[concept].items()
        for term in terms[:TERMS_PER_LANGUAGE]
    ]


def _scores(terms: list[tuple[str, str, str]], vectors: np.ndarray) -> dict[float, dict]:
    cosines = vectors @ vectors.T
    scores = {}
    for threshold in THRESHOLDS:
        right = wrong = missed = 0
        for i in range(len(terms)):
            for j in range(i + 1, len(terms)):
                if terms[i][1] == terms[j][1]:
                    continue
                same, merged = terms[i][0] == terms[j][0], cosines[i, j] >= threshold
                right += same and merged
                wrong += merged and not same
                missed += same and not merged
        scores[threshold] = {
            "precision": round(float(right / max(1, right + wrong)), 4),
            "recall": round(float(right / max(1, right + missed)), 4),
            "false_merges": int(wrong),
        }
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="multilingual-e5-small-q4")
    args = parser.parse_args()
    from knowledge.search.embedding import get_embedder
    from knowledge.search.glossary import get_glossary

    glossary = get_glossary()
    concepts = sorted(glossary.concepts)
    random.Random(3).shuffle(concepts)
    halves = {"train": concepts[: len(concepts) // 2], "held_out": concepts[len(concepts) // 2 :]}
    embedder = get_embedder(args.model)
    scores = {}
    for name, chosen in halves.items():
        terms = _terms(glossary, chosen)
        scores[name] = _scores(terms, embedder.encode_queries([term for *_, term in terms]))
    trusted = [t for t in THRESHOLDS if scores["train"][t]["precision"] >= WANTED_PRECISION]
    chosen_threshold = min(trusted) if trusted else None
    rows = [
        [
            f"{t:.2f}",
            *(f"{scores[h][t]['precision']:.3f} / {scores[h][t]['recall']:.3f}" for h in halves),
        ]
        for t in THRESHOLDS
    ]
    print_table(
        f"{args.model}: cross-language term pairs, precision / recall "
        f"({len(halves['train'])} + {len(halves['held_out'])} glossary concepts)",
        ["cosine", "train", "held out"],
        rows,
    )
    held = scores["held_out"].get(chosen_threshold) if chosen_threshold else None
    print(
        f"\nchosen on train (precision >= {WANTED_PRECISION}): {chosen_threshold}; held out: {held}"
    )
    result = {
        "model": args.model,
        "threshold": chosen_threshold,
        "held_out": held,
        "scores": scores,
    }
    print(f"results: {write_results('unmet-grouping', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
