"""Is there dense evidence that tells the questions lexical evidence leaves unmatched apart?

Printed by `python -m bench.fusion_tuning --matched` after the rule search (matched_tuning.py).
The residual is the questions the current `matched` rule calls unmet: answerable paraphrases
that share no word with the catalog against unanswerable questions. Each is scored by three
contrasts, none of which the rule uses yet, and the script prints how well each separates the
two groups (AUC: 1.0 separates them, 0.5 is chance), validation first, then the `test` split:

- `background`: the question's best item cosine minus its best cosine to a neutral background,
  the public out-of-scope sentences of nlu/data/public (train split of CLINC150, xSID and
  Tatoeba; licences in tests/nlu/public/SOURCES.md), embedded as passages: a likelihood ratio
  instead of an absolute level.
- `passage`: the best catalog passage's cosine minus that passage's own pull on background
  questions (the mean of its ten highest cosines to the same sentences embedded as questions):
  a passage such as "free computer and internet classes" is close to every "... classes".
- `words`: for each word of the question no item holds (everyday words left out), its best
  cosine to an indexed word of the catalog, averaged: "adolescents" is near "teen".

The z-score of the best item (what the rule's dense part uses) is printed beside them. Each
figure is printed for all languages and for English only, because a word or sentence in
another script sits further from an English catalog whatever it means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
BACKGROUND = REPOSITORY / "nlu" / "data" / "public"
HUB_NEIGHBOURS = 10
CONTRASTS = ("z", "background", "passage", "words")


@dataclass(frozen=True)
class Residual:
    """One question the current rule calls unmet, with its contrasts."""

    query: str
    language: str | None
    answerable: bool
    scores: dict[str, float]


def background_sentences(folder: Path = BACKGROUND) -> list[str]:
    """The public out-of-scope sentences the NLU trains on, every language."""
    sentences: list[str] = []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            sentences += [
                line.strip()[2:]
                for line in block["examples"].splitlines()
                if line.strip().startswith("- ")
            ]
    return sentences


class Contrasts:
    """The catalog-side vectors the contrasts need, computed once per catalog."""

    def __init__(self, service: Any, items: Sequence[Any], background: Sequence[str]) -> None:
        from knowledge.search.fields import passages
        from knowledge.search.lexical import CONCEPT_PREFIX

        self.service = service
        embedder = service.embedder
        texts = sorted({text for item in items for text in passages(item)})
        self.passages = embedder.encode(texts)
        self.background = embedder.encode(list(background))
        asked = embedder.encode_queries(list(background))
        pull = self.passages @ asked.T
        self.hub = np.sort(pull, axis=1)[:, -HUB_NEIGHBOURS:].mean(axis=1)
        lexical = service._index.lexical
        self.vocabulary = [
            token
            for token in lexical.postings
            if not token.startswith(CONCEPT_PREFIX)
            and lexical.document_frequency(token)
            and not _everyday(token, None)
        ]
        self.words = embedder.encode(self.vocabulary)

    def scores(self, evidence: Any, language: str | None) -> dict[str, float]:
        """The contrasts of one measured question (matched_tuning.Evidence)."""
        from knowledge.search import index as hybrid
        from knowledge.search.glossary import get_glossary
        from knowledge.search.lexical import tokenize

        embedder = self.service.embedder
        expansion = get_glossary().expand(evidence.query, language)
        vector = embedder.encode_query(hybrid._dense_text(evidence.query, expansion))
        best = float(evidence.cosines.max())
        lexical = self.service._index.lexical
        unknown = [
            word
            for word in dict.fromkeys(tokenize(evidence.query))
            if not lexical.document_frequency(word) and not _everyday(word, language)
        ]
        support = (
            float((embedder.encode_queries(unknown) @ self.words.T).max(axis=1).mean())
            if unknown and self.vocabulary
            else 0.0
        )
        return {
            "z": (best - evidence.mean) / (evidence.spread or 1.0),
            "background": best - float((self.background @ vector).max()),
            "passage": float((self.passages @ vector - self.hub).max()),
            "words": support,
        }


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a random answerable question scores above a random unanswerable one."""
    if not positive or not negative:
        return float("nan")
    high = np.asarray(positive)[:, None]
    low = np.asarray(negative)[None, :]
    return float((high > low).mean() + 0.5 * (high == low).mean())


def residual(
    contrasts: Contrasts, questions: Sequence[Any], languages: Sequence[str | None], rule: Any
) -> list[Residual]:
    """The questions `rule` calls unmet, scored."""
    return [
        Residual(
            question.query, language, question.answerable, contrasts.scores(question, language)
        )
        for question, language in zip(questions, languages, strict=True)
        if question.unmet(rule)
    ]


def report(name: str, found: Sequence[Residual]) -> None:
    """One line per language group: group sizes and each contrast's AUC."""
    for group, keep in (("all", lambda r: True), ("en", lambda r: r.language == "en")):
        chosen = [r for r in found if keep(r)]
        answerable = [r for r in chosen if r.answerable]
        unanswerable = [r for r in chosen if not r.answerable]
        aucs = "  ".join(
            f"{c} {auc([r.scores[c] for r in answerable], [r.scores[c] for r in unanswerable]):.2f}"
            for c in CONTRASTS
        )
        print(
            f"{name} {group}: {len(answerable)} answerable vs {len(unanswerable)} unanswerable "
            f"called unmet; AUC {aucs}"
        )


def _everyday(word: str, language: str | None) -> bool:
    from knowledge.search.spelling import EVERYDAY_WORD_ZIPF, is_common_word

    return is_common_word(word, language, EVERYDAY_WORD_ZIPF)
