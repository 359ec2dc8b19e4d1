"""A learned unmet-demand decision: a small logistic model over the fused evidence of a question,
fitted and thresholded on validation questions only, scored on the held-out ones by language.

    .venv/bin/python -m bench.fusion_tuning --matched-model [--model NAME]

Features of one question (over every live item; both catalogs are smaller than the index's
candidate pool, so every item is a candidate, as in bench/matched_tuning.py):

- `share`: the largest share of the question's informative weight one item holds (evidence.py);
- `absent`: the share of the question's weight held by no item at all (words the catalog lacks);
- `z`: the best item's cosine in standard deviations above the question's background;
- `margin`: the best cosine minus the background mean (the catalog's typical similarity);
- `cosine`: the best cosine;
- `names`: the best name/address/district coverage;
- `foreign`: 1 when the catalog is not written in the question's language;
- `peak`: how far the five best items stand above the next fifteen, in standard deviations
  (a programme some items hold stands out; a question about nothing the catalog has does not);
- `words`: for the question's words no item holds, the mean of their best cosine to an indexed
  word (bench/matched_contrasts.py `words`; 0 when every word is held).

Fitted (scikit-learn LogisticRegression, standardised features, class weights balanced) on the
real catalog's `validation` split and the sample city's validation questions (the split
bench/matched_tuning.py chooses on); the threshold is the one with the best validation
precision among those keeping unmet recall >= 0.9 on both catalogs' validation questions. Only
then are the real catalog's `test` split and the sample city's held-out questions scored, next
to the current rule, overall and per question language.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

FEATURES = ("share", "absent", "z", "margin", "cosine", "names", "foreign", "peak", "words")
# What search computes for every question anyway (`words` needs the catalog's words embedded
# and one more encoding per unknown word: not affordable per search at 100k items).
RUNTIME_FEATURES = ("absent", "z", "margin", "cosine", "foreign", "peak")
CATALOGS = ("real", "fresh", "city")
FRESH_QUERIES = Path(__file__).resolve().parent.parent / "tests/knowledge/real_unmet_queries.yml"
MIN_RECALL = 0.9


@dataclass(frozen=True)
class Asked:
    """One labelled question, its features and what the current rule says."""

    query: str
    language: str | None
    answerable: bool
    features: np.ndarray
    current_unmet: bool


def features(
    service: Any, query: str, language: str | None, vocabulary: tuple[list[str], np.ndarray]
) -> np.ndarray:
    """The question's evidence as FEATURES (see the module docstring)."""
    from bench.matched_tuning import question_groups
    from knowledge.search import index as hybrid
    from knowledge.search.evidence import _weight, share_held
    from knowledge.search.lexical import CONCEPT_PREFIX, tokenize
    from knowledge.search.spelling import EVERYDAY_WORD_ZIPF, is_common_word

    index = service._index
    groups, expansion = question_groups(service, query, language)
    slots = np.flatnonzero(index.alive)
    share = share_held(groups, slots, index.lexical, index.names, language)
    absent_counts = language is None or index.lexical.written_in(language)
    total = absent = 0.0
    for group in groups:
        weight = max(
            _weight(token, index.lexical, index.names, absent_counts, language) for token in group
        )
        if weight <= 0:
            continue
        total += weight
        if not any(
            index.lexical.document_frequency(token) or index.names.document_frequency(token)
            for token in group
        ):
            absent += weight
    vector = service.embedder.encode_query(hybrid._dense_text(query, expansion))
    mean, spread = index._background(vector)
    cosines = index.dense.vectors()[slots] @ vector
    best = float(cosines.max())
    words = [t for t in {t for g in groups for t in g} if not t.startswith(CONCEPT_PREFIX)]
    names = float(index.names.coverage(dict.fromkeys(words, 1.0), slots).max()) if words else 0.0
    ranked = np.sort(cosines)[::-1]
    peak = (ranked[:5].mean() - ranked[5:20].mean()) / (spread or 1.0)
    unknown = [
        word
        for word in dict.fromkeys(tokenize(query))
        if not index.lexical.document_frequency(word)
        and not is_common_word(word, language, EVERYDAY_WORD_ZIPF)
    ]
    support = (
        float((service.embedder.encode_queries(unknown) @ vocabulary[1].T).max(axis=1).mean())
        if unknown
        else 0.0
    )
    return np.array(
        [
            float(share.max()),
            absent / total if total else 0.0,
            (best - mean) / (spread or 1.0),
            best - mean,
            best,
            names,
            0.0 if absent_counts else 1.0,
            float(peak),
            support,
        ]
    )


def _vocabulary(service: Any) -> tuple[list[str], np.ndarray]:
    """The catalog's indexed words (not glossary concepts, not everyday words), embedded."""
    from knowledge.search.lexical import CONCEPT_PREFIX
    from knowledge.search.spelling import EVERYDAY_WORD_ZIPF, is_common_word

    lexical = service._index.lexical
    words = [
        token
        for token in lexical.postings
        if not token.startswith(CONCEPT_PREFIX)
        and lexical.document_frequency(token)
        and not is_common_word(token, None, EVERYDAY_WORD_ZIPF)
    ]
    return words, service.embedder.encode(words)


def _scores(unmet: Sequence[bool], questions: Sequence[Asked]) -> tuple[float, float, int]:
    right = sum(u and not q.answerable for u, q in zip(unmet, questions, strict=True))
    said, actual = sum(unmet), sum(not q.answerable for q in questions)
    wrong = sum(u and q.answerable for u, q in zip(unmet, questions, strict=True))
    return (right / said if said else 0.0, right / actual if actual else float("nan"), wrong)


def _line(name: str, unmet: Sequence[bool], questions: Sequence[Asked]) -> str:
    precision, recall, wrong = _scores(unmet, questions)
    answerable = sum(q.answerable for q in questions)
    return (
        f"{name}: {answerable}/{len(questions) - answerable} precision {precision:.2f} "
        f"recall {recall:.2f} ({wrong} answerable called unmet)"
    )


def main(model: str | None = None) -> int:
    from bench.matched_contrasts import auc
    from bench.matched_tuning import UNMET_QUERIES
    from bench.search_catalog import labelled_queries, sample_city_items
    from bench.search_quality import real_catalog_items, real_queries
    from knowledge.search import SearchService, is_unmet
    from nlu.language import detect_language

    data = Path(os.environ["LEARNCITY_DATA_DIR"])
    real_service = SearchService(data / "real", model)
    real_service.build(real_catalog_items())
    city_service = SearchService(data / "city", model)
    city_service.build(sample_city_items())
    print(f"model {real_service.model_name}", flush=True)

    vocabularies = {id(s): _vocabulary(s) for s in (real_service, city_service)}

    def asked(service: Any, query: str, language: str | None, answerable: bool) -> Asked:
        current = is_unmet(service.search(query, limit=5, language=language))
        found = features(service, query, language, vocabularies[id(service)])
        return Asked(query, language, answerable, found, current)

    sets: dict[tuple[str, str], list[Asked]] = {}
    for question in real_queries():
        sets.setdefault(("real", question.split), []).append(
            asked(real_service, question.query, question.language, question.answerable)
        )
    splits = [entry["split"] for entry in yaml.safe_load(UNMET_QUERIES.read_text())["queries"]]
    unmet = list(zip(labelled_queries(UNMET_QUERIES), splits, strict=True))
    answerable = [q for q in labelled_queries() if q.relevant]
    for split, half in (("validation", 0), ("test", 1)):
        city_questions = [q for q, s in unmet if s == split] + answerable[half::2]
        sets[("city", split)] = [
            asked(city_service, q.query, detect_language(q.query), bool(q.relevant))
            for q in city_questions
        ]
    for question in real_queries(FRESH_QUERIES):
        sets.setdefault(("fresh", question.split), []).append(
            asked(real_service, question.query, question.language, question.answerable)
        )
    validation = [sets[(catalog, "validation")] for catalog in CATALOGS]
    decisions = {
        "learned": _fit(sum(validation, []), FEATURES, validation, lambda q: True),
        # Only what the current rule leaves unmatched, on what search computes anyway.
        "residual": _fit(
            [q for group in validation for q in group if q.current_unmet],
            RUNTIME_FEATURES,
            validation,
            lambda q: q.current_unmet,
        ),
    }
    for name, decision in decisions.items():
        print(decision.describe(name))
    for split in ("validation", "test"):
        residual = [q for c in ("real", "fresh") for q in sets[(c, split)] if q.current_unmet]
        for group, keep in (("all", lambda q: True), ("en", lambda q: q.language == "en")):
            chosen = [q for q in residual if keep(q)]
            answerable = [q for q in chosen if q.answerable]
            lacking = [q for q in chosen if not q.answerable]
            print(
                f"real+fresh {split} {group}, called unmet by the current rule: "
                f"{len(answerable)} answerable vs {len(lacking)} unanswerable; AUC "
                + ", ".join(
                    f"{feature} "
                    f"{auc([q.features[i] for q in answerable], [q.features[i] for q in lacking]):.2f}"
                    for i, feature in enumerate(FEATURES)
                )
            )
    for key, questions in sets.items():
        said = {"current": [q.current_unmet for q in questions]}
        said |= {name: decision.unmet(questions) for name, decision in decisions.items()}
        print(f"{key[0]} {key[1]}")
        for name, unmet in said.items():
            print(f"  {_line(name, unmet, questions)}")
        for language in sorted({str(q.language) for q in questions}):
            mine = [i for i, q in enumerate(questions) if str(q.language) == language]
            group = [questions[i] for i in mine]
            print(
                f"    {language}: "
                + " | ".join(
                    _line(name, [unmet[i] for i in mine], group) for name, unmet in said.items()
                )
            )
        for q, unmet in zip(questions, said["residual"], strict=True):
            if q.current_unmet or unmet:  # what the decisions are about: evidence, verdict
                verdict = "right" if unmet != q.answerable else "WRONG"
                print(
                    f"      {verdict} residual says {'unmet' if unmet else 'matched'}: "
                    f"{q.query!r} ({q.language}, "
                    f"{'answerable' if q.answerable else 'unanswerable'}) "
                    + " ".join(f"{n} {v:.3f}" for n, v in zip(FEATURES, q.features, strict=True))
                )
    return 0


@dataclass
class Decision:
    """A logistic model over some FEATURES and the threshold chosen on validation."""

    features: tuple[str, ...]
    scaler: Any
    learner: Any
    threshold: float
    applies: Callable[[Asked], bool]  # questions it decides; the others keep the current rule
    validation_precision: float

    def unmet(self, questions: Sequence[Asked]) -> list[bool]:
        columns = [FEATURES.index(name) for name in self.features]
        matrix = np.array([q.features[columns] for q in questions])
        chance = self.learner.predict_proba(self.scaler.transform(matrix))[:, 1]
        return [
            bool(p >= self.threshold) if self.applies(q) else q.current_unmet
            for p, q in zip(chance, questions, strict=True)
        ]

    def describe(self, name: str) -> str:
        weights = ", ".join(
            f"{n} {c:+.2f}" for n, c in zip(self.features, self.learner.coef_[0], strict=True)
        )
        return (
            f"{name}: threshold {self.threshold:.2f} (validation precision "
            f"{self.validation_precision:.2f}); standardised weights {weights}; "
            f"intercept {self.learner.intercept_[0]:+.2f}"
        )


def _fit(
    fit_on: Sequence[Asked],
    names: tuple[str, ...],
    validation: Sequence[Sequence[Asked]],
    applies: Callable[[Asked], bool],
) -> Decision:
    """Fit on `fit_on`; the threshold keeps unmet recall >= MIN_RECALL on every validation
    set, with the best precision over them all."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    columns = [FEATURES.index(name) for name in names]
    matrix = np.array([q.features[columns] for q in fit_on])
    scaler = StandardScaler().fit(matrix)
    learner = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    learner.fit(scaler.transform(matrix), [0 if q.answerable else 1 for q in fit_on])
    best: Decision | None = None
    for threshold in np.arange(0.05, 0.96, 0.01):
        decision = Decision(names, scaler, learner, float(threshold), applies, 0.0)
        called = [decision.unmet(group) for group in validation]
        if min(_scores(c, g)[1] for c, g in zip(called, validation, strict=True)) < MIN_RECALL:
            continue
        precision = _scores(sum(called, []), [q for group in validation for q in group])[0]
        if best is None or precision > best.validation_precision:
            best = Decision(names, scaler, learner, float(threshold), applies, precision)
    if best is None:
        raise SystemExit(f"no threshold keeps unmet recall >= {MIN_RECALL} on validation")
    return best
