"""Score fusion: one relevance per candidate from the lexical, dense and name-field evidence.

Reciprocal rank fusion (used before) throws the scores away: a rare exact match ("Albion
library" among 100 library branches) ranked first lexically but low densely came out below
generic items ranked well by both. Here each retriever's score is put on a 0..1 scale that
keeps its meaning, and the three are added with weights:

- lexical: BM25 over the topic text, divided by the best candidate's BM25;
- dense: cosine similarity above the catalog's background (the mean similarity of the
  question to a sample of items), divided by the best candidate's margin above it;
- name fields: the IDF-weighted share of the question's words found in the item's name,
  address or district (1.0 when every word is there): the exact-match boost.

The weights were chosen on the validation half of the labelled questions
(`bench/fusion_tuning.py`; the numbers are in docs/search.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FusionWeights:
    # Best among dense 0.25-1.5 and names 0.5-3 (bench/fusion_tuning.py, 2026-12-01,
    # multilingual-e5-small-q4) on the validation questions of both catalogs (the sample
    # city's even labelled questions and the real catalog's validation split): recall@5
    # 0.966 there (1 : 1 : 1 gave 0.954); held out: sample city 0.962 (0.958), real catalog's
    # test split 0.888 (0.888). Every setting put each named library branch first.
    lexical: float = 1.0
    dense: float = 1.5
    names: float = 2.0

    @property
    def total(self) -> float:
        return self.lexical + self.dense + self.names


DEFAULT_WEIGHTS = FusionWeights()


def scaled_lexical(scores: np.ndarray) -> np.ndarray:
    """BM25 scores divided by the best one (all zeros stay zeros)."""
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else np.zeros_like(scores)


def scaled_dense(cosines: np.ndarray, background: float) -> np.ndarray:
    """Similarity above the background, divided by the best candidate's margin; 0..1."""
    margins = np.clip(cosines - background, 0.0, None)
    best = float(margins.max()) if len(margins) else 0.0
    return margins / best if best > 0 else np.zeros_like(cosines)


def fuse(
    lexical: np.ndarray,
    dense: np.ndarray,
    names: np.ndarray,
    weights: FusionWeights = DEFAULT_WEIGHTS,
) -> np.ndarray:
    """Weighted sum of the scaled evidence, divided by the weights' total: 0..1."""
    total = weights.total or 1.0
    return (weights.lexical * lexical + weights.dense * dense + weights.names * names) / total
