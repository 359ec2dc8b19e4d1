"""Passage-level and null-calibrated evidence for `matched`, measured on validation, tested once.

    .venv/bin/python -m bench.fusion_tuning --matched-passages [--model NAME] [--public-only]

The residual is what the current `matched` rule calls unmet (knowledge/search/index.py):
answerable paraphrases sharing no word with the catalog against unanswerable questions. An
item's vector is the mean of its passages' (item_vectors.py), so one offer's signal is diluted
in it; and every question sits near some library text. Each question is scored here by
evidence the rule does not use, each a way of asking "is this question closer to something
the catalog says than unrelated text would be?":

- `best_passage`: the question's best cosine to one of the catalog's distinct passages.
- `passage_z`: over the catalog's passages, the best (cosine - mu_p) / sd_p, where mu_p, sd_p
  are the passage's cosines to unrelated questions in the question's language (a per-catalog
  null, so a p-value in all but name); `passage_pull`: the best cosine minus the passage's
  mean top-10 cosine to those questions (its pull on any question).
- `item_z`: the same per-item null on the item vectors the index holds.
- `generic_z`: the best passage cosine against the question's own cosines to unrelated
  sentences of its language (mean and spread).
- `csls`: 2 cos - pull of the question - pull of the passage (cross-domain similarity local
  scaling, the usual fix for hubs), best passage.
- `generic_rank`: minus how many unrelated sentences sit nearer to the question than the
  catalog's best passage (a nearest-neighbour test of "is it about this catalog").
- `other_catalog`: the best passage cosine minus the best cosine to the unrelated sentences
  and the OTHER catalog's passages (sample city for Toronto and the reverse), those nearer
  than cosine 0.9 to this catalog's own passages left out.

Unrelated text: tests/nlu/language/tatoeba_sample.tsv (Tatoeba, CC BY 2.0 FR; 600 sentences
in each of the seven languages; Portuguese left out) and the public out-of-scope sentences of
nlu/data/public (CLINC150, xSID, Tatoeba; tests/nlu/public/SOURCES.md), each with its language;
`--public-only`: the latter alone (964 sentences), which search itself could read at run time.

For each piece of evidence the script prints its AUC on the validation residual (real catalog,
fresh questions of real_unmet_queries.yml, both; all languages and English only), then picks
its threshold on validation: the rule "matched as now, or evidence >= t" with unmet recall
>= 0.9 on each validation set (real, fresh, sample city), sample city precision >= 0.95, and
the best real + fresh validation precision. Only the thresholds so chosen are scored on the
test splits, once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
BACKGROUND = REPOSITORY / "nlu" / "data" / "public"
TATOEBA = REPOSITORY / "tests" / "nlu" / "language" / "tatoeba_sample.tsv"
LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru", "uk")
NEIGHBOURS = 10
OWN_PASSAGE = 0.9  # another catalog's passage this near one of ours says what we say
SETS = ("real", "fresh", "city")


@dataclass(frozen=True)
class Scored:
    query: str
    language: str | None
    answerable: bool
    current_unmet: bool
    evidence: dict[str, float]


def unrelated_sentences(tatoeba: bool = True) -> tuple[list[str], np.ndarray]:
    """Tatoeba's sample (seven languages; unless `tatoeba` is False) and the NLU's public
    out-of-scope sentences (nlu/data/public/<language>.yml), with their languages."""
    texts: list[str] = []
    languages: list[str] = []
    if tatoeba:
        for line in TATOEBA.read_text(encoding="utf-8").splitlines()[1:]:
            language, _split, _length, text = line.split("\t")
            if language in LANGUAGES:
                texts.append(text)
                languages.append(language)
    for path in sorted(BACKGROUND.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    texts.append(line.strip()[2:])
                    languages.append(path.stem)
    return texts, np.array(languages)


class Catalog:
    """One catalog's passages and their null statistics, per question language."""

    def __init__(
        self,
        service: Any,
        items: Sequence[Any],
        other: Sequence[Any],
        asked: np.ndarray,
        written: np.ndarray,
        languages: np.ndarray,
    ) -> None:
        from knowledge.search.fields import passages

        self.service = service
        embedder = service.embedder
        self.passages = embedder.encode(sorted({t for item in items for t in passages(item)}))
        others = embedder.encode(sorted({t for item in other for t in passages(item)}))
        others = others[(others @ self.passages.T).max(axis=1) < OWN_PASSAGE]
        self.written = written  # unrelated sentences as passages
        self.reference = np.concatenate([written, others])
        self.languages = languages
        index = service._index
        items_held = index.dense.vectors()[np.flatnonzero(index.alive)]
        pull = self.passages @ asked.T
        item_pull = items_held @ asked.T
        self.null: dict[str, dict[str, np.ndarray]] = {}
        for language in (*LANGUAGES, "any"):
            mask = languages == language if language != "any" else np.ones(len(languages), bool)
            self.null[language] = {
                "mean": pull[:, mask].mean(axis=1),
                "sd": pull[:, mask].std(axis=1),
                "pull": np.sort(pull[:, mask], axis=1)[:, -NEIGHBOURS:].mean(axis=1),
                "item_mean": item_pull[:, mask].mean(axis=1),
                "item_sd": item_pull[:, mask].std(axis=1),
            }

    def evidence(self, measured: Any, language: str | None) -> dict[str, float]:
        """Every contrast for one question (`measured`: bench.matched_tuning.Evidence)."""
        from bench.matched_tuning import question_groups
        from knowledge.search import index as hybrid

        key = language if language in LANGUAGES else "any"
        null = self.null[key]
        _, expansion = question_groups(self.service, measured.query, language)
        vector = self.service.embedder.encode_query(hybrid._dense_text(measured.query, expansion))
        cosines = self.passages @ vector
        generic = self.written @ vector
        same = generic[self.languages == key] if key != "any" else generic
        best = float(cosines.max())
        own_pull = float(np.sort(same)[-NEIGHBOURS:].mean())
        return {
            "best_passage": best,
            "passage_z": float(((cosines - null["mean"]) / null["sd"]).max()),
            "passage_pull": float((cosines - null["pull"]).max()),
            "item_z": float(((measured.cosines - null["item_mean"]) / null["item_sd"]).max()),
            "generic_z": (best - float(same.mean())) / float(same.std()),
            "csls": float((2 * cosines - own_pull - null["pull"]).max()),
            "generic_rank": -float((generic > best).sum()),
            "other_catalog": best - float((self.reference @ vector).max()),
        }


def unmet_scores(
    questions: Sequence[Scored], said: Callable[[Scored], bool]
) -> tuple[float, float]:
    """Unmet precision and recall (unanswerable is the positive class)."""
    flagged = [q for q in questions if said(q)]
    right = sum(not q.answerable for q in flagged)
    actual = sum(not q.answerable for q in questions)
    return (right / len(flagged) if flagged else 0.0, right / actual if actual else 0.0)


def rule(name: str | None, threshold: float) -> Callable[[Scored], bool]:
    return lambda q: q.current_unmet and not (name and q.evidence[name] >= threshold)


def choose(validation: dict[str, list[Scored]], name: str) -> float | None:
    """The threshold of the module docstring, or None if none keeps the constraints."""
    values = sorted({q.evidence[name] for group in validation.values() for q in group})
    best: tuple[float, float] | None = None
    for threshold in values:
        scores = {s: unmet_scores(validation[s], rule(name, threshold)) for s in SETS}
        if min(r for _, r in scores.values()) < 0.9 or scores["city"][0] < 0.95:
            continue
        key = scores["real"][0] + scores["fresh"][0]
        if best is None or key > best[0]:
            best = (key, threshold)
    return None if best is None else best[1]


def main(model: str | None = None, *, tatoeba: bool = True) -> int:
    """See the module docstring; `tatoeba` False: the public out-of-scope sentences only."""
    from bench.matched_contrasts import auc
    from bench.matched_model import FRESH_QUERIES
    from bench.matched_tuning import UNMET_QUERIES, current_rule, measure
    from bench.search_catalog import labelled_queries, sample_city_items
    from bench.search_quality import real_catalog_items, real_queries
    from knowledge.search import SearchService
    from nlu.language import detect_language

    data = Path(os.environ["LEARNCITY_DATA_DIR"])
    real_items, city_items = real_catalog_items(), sample_city_items()
    real_service = SearchService(data / "real", model)
    real_service.build(real_items)
    city_service = SearchService(data / "city", model)
    city_service.build(city_items)
    embedder = real_service.embedder
    print(f"model {real_service.model_name}; load {os.getloadavg()[0]:.1f}", flush=True)
    texts, languages = unrelated_sentences(tatoeba)
    asked, written = embedder.encode_queries(texts), embedder.encode(texts)
    catalogs = {
        "real": Catalog(real_service, real_items, city_items, asked, written, languages),
        "city": Catalog(city_service, city_items, real_items, asked, written, languages),
    }
    print(f"{len(texts)} unrelated sentences embedded; load {os.getloadavg()[0]:.1f}", flush=True)

    asked_sets: dict[tuple[str, str], list[tuple[Any, str | None]]] = {}
    for question in real_queries():
        asked_sets.setdefault(("real", question.split), []).append((question, question.language))
    for question in real_queries(FRESH_QUERIES):
        asked_sets.setdefault(("fresh", question.split), []).append((question, question.language))
    splits = [entry["split"] for entry in yaml.safe_load(UNMET_QUERIES.read_text())["queries"]]
    unmet = list(zip(labelled_queries(UNMET_QUERIES), splits, strict=True))
    answerable = [q for q in labelled_queries() if q.relevant]
    for split, half in (("validation", 0), ("test", 1)):
        city_questions = [q for q, s in unmet if s == split] + answerable[half::2]
        asked_sets[("city", split)] = [(q, detect_language(q.query)) for q in city_questions]
    current = current_rule()
    scored: dict[tuple[str, str], list[Scored]] = {}
    for (catalog, split), questions in asked_sets.items():
        side = catalogs["city" if catalog == "city" else "real"]
        scored[(catalog, split)] = []
        for question, language in questions:
            found = measure(side.service, question.query, language, question.relevant)
            scored[(catalog, split)].append(
                Scored(
                    question.query,
                    language,
                    bool(question.relevant),
                    found.unmet(current),
                    side.evidence(found, language),
                )
            )
    names = list(scored[("real", "validation")][0].evidence)
    validation = {s: scored[(s, "validation")] for s in SETS}
    for catalogs_shown in (("real",), ("fresh",), ("real", "fresh")):
        residual = [q for c in catalogs_shown for q in validation[c] if q.current_unmet]
        for group in ("all", "en"):
            chosen = [q for q in residual if group == "all" or q.language == "en"]
            yes = [q for q in chosen if q.answerable]
            no = [q for q in chosen if not q.answerable]
            aucs = " ".join(
                f"{n} {auc([q.evidence[n] for q in yes], [q.evidence[n] for q in no]):.2f}"
                for n in names
            )
            print(f"validation {'+'.join(catalogs_shown)} {group}: {len(yes)}/{len(no)} AUC {aucs}")

    def line(split: str, said: Callable[[Scored], bool]) -> str:
        return "  ".join(
            "{} {:.2f}/{:.2f}".format(s, *unmet_scores(scored[(s, split)], said)) for s in SETS
        )

    print(f"current rule: validation {line('validation', rule(None, 0))}")
    print(f"              test       {line('test', rule(None, 0))}")
    for name in names:
        threshold = choose(validation, name)
        if threshold is None:
            print(f"{name}: no threshold keeps unmet recall >= 0.9 on every validation set")
            continue
        print(f"{name} >= {threshold:.3f}: validation {line('validation', rule(name, threshold))}")
        print(f"{' ' * len(name)}          test       {line('test', rule(name, threshold))}")
    return 0
