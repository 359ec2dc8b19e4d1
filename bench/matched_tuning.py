"""Calibrate `matched` (and so unmet demand) on validation questions; report the held-out rest.

    .venv/bin/python -m bench.fusion_tuning --matched
    .venv/bin/python -m bench.fusion_tuning --matched --model use-multilingual-v3

A search is unmet when no item it considers is `matched`: an item holds at least `coverage` of
the question's informative parts (knowledge/search/evidence.py), or its cosine similarity to the
question stands `sigmas` standard deviations above the question's background and at least at
`floor` (knowledge/search/index.py). This script measures that evidence once per question for
every live item (both catalogs are smaller than the index's candidate pool, so every item is
considered), checks that the current rule replayed on it gives exactly what the live search
says, prints the validation questions the current rule gets wrong (share held, z-score and
cosine of the best right item), then tries a grid of (coverage, sigmas, floor). Questions used
for choosing: the real catalog's `validation` split (tests/knowledge/real_queries.yml) and the
sample city's validation questions (the `validation` split of tests/knowledge/unmet_queries.yml,
plus the even-numbered answerable questions of labelled_queries.yml, the half
bench/fusion_tuning.py tunes on). A setting is eligible when the real catalog's unmet recall stays >= 0.9
and the sample city's unmet precision >= 0.95 and recall >= 0.9; the best has the highest
real-catalog validation precision (ties: nearest the current rule). Only then is the real
catalog's `test` split and the sample city's held-out questions scored, for the current rule
and the chosen one.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
UNMET_QUERIES = REPOSITORY / "tests" / "knowledge" / "unmet_queries.yml"
COVERAGES = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
SIGMAS = tuple(float(s) for s in np.arange(0.0, 4.01, 0.25))
FLOORS = tuple(round(float(f), 2) for f in np.arange(-0.1, 0.9, 0.01))


@dataclass(frozen=True)
class Rule:
    coverage: float
    sigmas: float
    floor: float


@dataclass(frozen=True)
class Evidence:
    """What `matched` is decided from, for one question and every live item."""

    query: str
    relevant: tuple[str, ...]
    ids: list[str]  # the live items, in the order of `share` and `cosines`
    share: np.ndarray  # share of the question's weight each item holds
    cosines: np.ndarray
    mean: float  # the question's background: mean and spread of its similarity to the catalog
    spread: float
    dense_trusted: bool  # the model may judge this question (index._dense_trusted)
    named: np.ndarray | None = None  # holds every name the question asks for (asked_names.py)

    def unmet(self, rule: Rule) -> bool:
        matched = self.share >= rule.coverage
        if self.dense_trusted:
            matched |= (self.cosines >= self.mean + rule.sigmas * self.spread) & (
                self.cosines >= rule.floor
            )
        if self.named is not None:
            matched &= self.named
        return not matched.any()

    @property
    def answerable(self) -> bool:
        return bool(self.relevant)

    def describe(self) -> str:
        """The best right item's evidence (or, unanswerable, the best item's): why it failed."""
        z = (self.cosines - self.mean) / (self.spread or 1.0)
        right = [i for i, item in enumerate(self.ids) if item in self.relevant] or range(len(z))
        best = max(right, key=lambda i: z[i])
        return (
            f"{self.query!r}: share {self.share[list(right)].max():.2f}, "
            f"z {z[best]:.2f}, cosine {self.cosines[best]:.3f}"
            + ("" if self.dense_trusted else " (dense not trusted for it)")
        )


def question_groups(service: Any, query: str, language: str | None) -> tuple[list[list[str]], Any]:
    """The question's parts and glossary expansion, as the index's search computes them."""
    from knowledge.search.evidence import question_parts
    from knowledge.search.glossary import get_glossary
    from knowledge.search.lexical import single_character_topics
    from knowledge.search.spelling import glossary_speller

    glossary = get_glossary()
    index = service._index
    corrections = index.corrections(query, glossary_speller(glossary), language)
    fixed = [word for words in corrections.values() for word in words]
    expansion = glossary.expand(" ".join([query, *fixed]), language)
    held = {c: index.lexical.tokens_containing(c) for c in single_character_topics(query)}
    return question_parts(query, expansion, corrections, held), expansion


def measure(service: Any, query: str, language: str | None, relevant: Sequence[str]) -> Evidence:
    """The evidence the index computes in `_candidates`, over every live item. Reads the
    index's internals (a bench, not an API); `check_replay` proves it agrees with search."""
    from knowledge.search import index as hybrid
    from knowledge.search.asked_names import asked_names, holds_names
    from knowledge.search.evidence import share_held
    from knowledge.search.glossary import get_glossary
    from knowledge.search.spelling import glossary_speller

    index = service._index
    groups, expansion = question_groups(service, query, language)
    slots = np.flatnonzero(index.alive)
    vector = service.embedder.encode_query(hybrid._dense_text(query, expansion))
    mean, spread = index._background(vector)
    return Evidence(
        query=query,
        relevant=tuple(relevant),
        ids=[index.item_at(slot).id for slot in slots],
        share=share_held(groups, slots, index.lexical, index.names, language),
        cosines=index.dense.vectors()[slots] @ vector,
        mean=mean,
        spread=spread,
        dense_trusted=hybrid._dense_trusted(query, service.embedder.multilingual),
        named=holds_names(
            asked_names(
                query,
                language,
                index.corrections(query, glossary_speller(get_glossary()), language),
                expansion,
            ),
            slots,
            index.lexical,
            index.names,
        ),
    )


def unmet_scores(questions: Sequence[Evidence], rule: Rule) -> dict[str, float]:
    """Precision and recall of unmet demand (positive: nothing relevant in the catalog)."""
    said = [question.unmet(rule) for question in questions]
    right = sum(s and not q.answerable for s, q in zip(said, questions, strict=True))
    actual = sum(not q.answerable for q in questions)
    return {
        "precision": right / sum(said) if sum(said) else 0.0,
        "recall": right / actual if actual else 0.0,
        "answerable_called_unmet": sum(
            s and q.answerable for s, q in zip(said, questions, strict=True)
        ),
    }


def check_replay(service: Any, questions: Sequence[Evidence], languages: Sequence[str | None]):
    """The current rule replayed on the measured evidence must say what search says."""
    from knowledge.search import is_unmet

    current = current_rule()
    for question, language in zip(questions, languages, strict=True):
        live = is_unmet(service.search(question.query, limit=5, language=language))
        if live != question.unmet(current):
            raise SystemExit(
                f"replay disagrees with search on {question.query!r} (search unmet={live}): "
                "bench/matched_tuning.py `measure` no longer mirrors knowledge/search/index.py"
            )


def current_rule() -> Rule:
    from knowledge.search.evidence import MATCH_COVERAGE
    from knowledge.search.index import DENSE_BACKGROUND_SIGMAS, DENSE_FLOOR

    return Rule(MATCH_COVERAGE, DENSE_BACKGROUND_SIGMAS, DENSE_FLOOR)


def choose(real: Sequence[Evidence], city: Sequence[Evidence]) -> tuple[Rule, list[str]]:
    """The eligible rule with the best real-catalog validation precision (see module doc)."""
    current = current_rule()
    best: tuple[tuple[float, float], Rule] | None = None
    for coverage, sigmas, floor in itertools.product(COVERAGES, SIGMAS, FLOORS):
        rule = Rule(coverage, sigmas, floor)
        on_real, on_city = unmet_scores(real, rule), unmet_scores(city, rule)
        if on_real["recall"] < 0.9 or on_city["precision"] < 0.95 or on_city["recall"] < 0.9:
            continue
        distance = (
            abs(coverage - current.coverage)
            + abs(sigmas - current.sigmas) / 10
            + abs(floor - current.floor)
        )
        key = (on_real["precision"], -distance)
        if best is None or key > best[0]:
            best = (key, rule)
    if best is None:
        return current, ["no setting met the constraints on both catalogs (module docstring)"]
    return best[1], []


def main(model: str | None = None) -> int:
    """Measure, check, choose, report (see the module docstring); then how well the
    contrasts of bench/matched_contrasts.py separate what the current rule leaves unmet."""
    from bench.matched_contrasts import Contrasts, background_sentences, report, residual
    from bench.search_catalog import labelled_queries, sample_city_items
    from bench.search_quality import real_catalog_items, real_queries
    from knowledge.search import SearchService
    from nlu.language import detect_language

    data = Path(os.environ["LEARNCITY_DATA_DIR"])  # a fresh folder (bench.fusion_tuning)
    real_items = real_catalog_items()
    real_service = SearchService(data / "real", model)
    real_service.build(real_items)
    city_service = SearchService(data / "city", model)
    city_service.build(sample_city_items())
    print(f"model {real_service.model_name}", flush=True)

    questions = real_queries()
    validation = [q for q in questions if q.split == "validation"]
    real = [measure(real_service, q.query, q.language, q.relevant) for q in validation]
    check_replay(real_service, real, [q.language for q in validation])
    splits = [entry["split"] for entry in yaml.safe_load(UNMET_QUERIES.read_text())["queries"]]
    unmet = list(zip(labelled_queries(UNMET_QUERIES), splits, strict=True))
    answerable = [q for q in labelled_queries() if q.relevant]
    city_sets = {
        split: [q for q, s in unmet if s == split] + answerable[half::2]
        for split, half in (("validation", 0), ("test", 1))
    }
    city_measured: dict[str, list[Evidence]] = {}
    for split, city_questions in city_sets.items():
        city_languages = [detect_language(q.query) for q in city_questions]
        city_measured[split] = [
            measure(city_service, q.query, language, q.relevant)
            for q, language in zip(city_questions, city_languages, strict=True)
        ]
        check_replay(city_service, city_measured[split], city_languages)
    city = city_measured["validation"]

    current = current_rule()
    print("validation, current rule: answerable called unmet / unanswerable matched")
    for question in real:
        if question.unmet(current) == question.answerable:
            print(f"  {'unmet' if question.answerable else 'matched'} {question.describe()}")
    chosen, notes = choose(real, city)
    print(*notes, sep="\n")
    contrasts = Contrasts(real_service, real_items, background_sentences())
    report("validation", residual(contrasts, real, [q.language for q in validation], current))
    held_out = [q for q in questions if q.split == "test"]
    test = [measure(real_service, q.query, q.language, q.relevant) for q in held_out]
    report("test", residual(contrasts, test, [q.language for q in held_out], current))
    for name, rule in (("current", current), ("chosen", chosen)):
        print(
            f"{name} {rule}: real validation {_fmt(unmet_scores(real, rule))}; "
            f"sample city {_fmt(unmet_scores(city, rule))}; "
            f"real test {_fmt(unmet_scores(test, rule))}; "
            f"sample city held out {_fmt(unmet_scores(city_measured['test'], rule))}"
        )
    return 0


def _fmt(scores: dict[str, float]) -> str:
    return (
        f"unmet precision {scores['precision']:.3f} recall {scores['recall']:.3f} "
        f"({scores['answerable_called_unmet']} answerable called unmet)"
    )
