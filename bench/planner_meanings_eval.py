"""The cosine from which the planner dashboard merges two unmet questions of different
languages by meaning (bot/admin/unmet_meanings.py: SAME_MEANING_COSINE), chosen and checked.

    .venv/bin/python -m bench.planner_meanings_eval [--model multilingual-e5-small-q4]

Data: bot/admin/unmet_meanings.yml, unmet questions written for this (22 topics the glossary
does not name, each in zh, en, es, fr, ar, ru, uk), split by topic into validation and held
out. Pairs are questions in different languages: of one topic they should merge, of two topics
(also close ones: violin / drums, German / Korean) they should not. Vectors are centred by
language means before the cosine. On validation, each half of its topics is centred by the
other half's means (so the threshold is not chosen on means made from the very questions
scored); the threshold is the lowest with precision >= WANTED_PRECISION there. The held-out
topics are centred by the means of all validation topics, as the dashboard does, and only
reported. The raw cosine (no centring) is shown beside for comparison.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from bench.report import print_table, write_results

THRESHOLDS = (0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60)
RAW_THRESHOLDS = (0.86, 0.88, 0.90, 0.92)
WANTED_PRECISION = 0.98
LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru", "uk")

Question = tuple[str, str, str]  # (topic, language, question)


def _questions(topics: dict, split: str) -> list[Question]:
    return [
        (name, language, topic[language])
        for name, topic in sorted(topics.items())
        if topic["split"] == split
        for language in LANGUAGES
    ]


def _counts(questions: list[Question], cosines: np.ndarray, threshold: float) -> list[int]:
    """[right merges, wrong merges, missed merges] over pairs of different languages."""
    right = wrong = missed = 0
    for i in range(len(questions)):
        for j in range(i + 1, len(questions)):
            if questions[i][1] == questions[j][1]:
                continue
            same, merged = questions[i][0] == questions[j][0], cosines[i, j] >= threshold
            right += same and merged
            wrong += merged and not same
            missed += same and not merged
    return [int(right), int(wrong), int(missed)]


def _score(right: int, wrong: int, missed: int) -> dict:
    return {
        "precision": round(right / max(1, right + wrong), 4),
        "recall": round(right / max(1, right + missed), 4),
        "wrong_merges": wrong,
        "right_merges": right,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="multilingual-e5-small-q4")
    args = parser.parse_args()
    from bot.admin.unmet_meanings import centre, labelled_topics, language_means, question_vectors

    topics = labelled_topics()
    validation, held_out = _questions(topics, "validation"), _questions(topics, "held_out")
    vectors = {
        name: question_vectors(args.model, [q for *_, q in questions])
        for name, questions in (("validation", validation), ("held_out", held_out))
    }
    names = sorted({topic for topic, *_ in validation})
    folds = [set(names[0::2]), set(names[1::2])]
    tried: dict[str, dict[float, dict]] = {"validation": {}, "held_out": {}, "held_out_raw": {}}
    for threshold in THRESHOLDS:
        total = [0, 0, 0]
        for fold, other in ((folds[0], folds[1]), (folds[1], folds[0])):
            rows = [i for i, (topic, *_) in enumerate(validation) if topic in fold]
            means_rows = [i for i, (topic, *_) in enumerate(validation) if topic in other]
            means = language_means(
                vectors["validation"][means_rows], [validation[i][1] for i in means_rows]
            )
            part = [validation[i] for i in rows]
            centred = centre(vectors["validation"][rows], [q[1] for q in part], means)
            total = [
                a + b
                for a, b in zip(total, _counts(part, centred @ centred.T, threshold), strict=True)
            ]
        tried["validation"][threshold] = _score(*total)
    all_means = language_means(vectors["validation"], [q[1] for q in validation])
    centred = centre(vectors["held_out"], [q[1] for q in held_out], all_means)
    for threshold in THRESHOLDS:
        tried["held_out"][threshold] = _score(*_counts(held_out, centred @ centred.T, threshold))
    raw = vectors["held_out"] @ vectors["held_out"].T
    for threshold in RAW_THRESHOLDS:
        tried["held_out_raw"][threshold] = _score(*_counts(held_out, raw, threshold))
    trusted = [t for t in THRESHOLDS if tried["validation"][t]["precision"] >= WANTED_PRECISION]
    chosen = min(trusted) if trusted else None

    def cell(score: dict) -> str:
        return f"{score['precision']:.3f} / {score['recall']:.3f} ({score['wrong_merges']})"

    print_table(
        f"{args.model}: language-centred cosine, cross-language pairs, precision / recall "
        f"(wrong merges); {len(folds[0]) + len(folds[1])} validation + "
        f"{len(held_out) // len(LANGUAGES)} held-out topics",
        ["cosine", "validation (cross-fold means)", "held out"],
        [
            [f"{t:.2f}", cell(tried["validation"][t]), cell(tried["held_out"][t])]
            for t in THRESHOLDS
        ],
    )
    print_table(
        "raw cosine (no centring), held out",
        ["cosine", "held out"],
        [[f"{t:.2f}", cell(tried["held_out_raw"][t])] for t in RAW_THRESHOLDS],
    )
    held = tried["held_out"].get(chosen) if chosen is not None else None
    print(f"\nchosen on validation (precision >= {WANTED_PRECISION}): {chosen}; held out: {held}")
    result = {
        "model": args.model,
        "threshold": chosen,
        "held_out": held,
        "scores": {name: {str(t): s for t, s in rows.items()} for name, rows in tried.items()},
    }
    print(f"results: {write_results('planner-meanings', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
