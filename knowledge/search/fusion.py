"""Reciprocal rank fusion: merge ranked lists from different retrievers without calibrating scores.

Cormack, Clarke and Buettcher (SIGIR 2009): score(d) = sum over lists of w / (k + rank(d)).
BM25 scores and cosine similarities live on different scales; ranks do not.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]],
    *,
    weights: Sequence[float] | None = None,
    k: int = RRF_K,
) -> dict[Hashable, float]:
    """Fused scores for every key in any ranking (best first in each ranking; rank 1 is the top)."""
    fused: dict[Hashable, float] = {}
    for position, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[position]
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return fused


def best_possible_score(weights: Sequence[float], *, k: int = RRF_K) -> float:
    """The fused score of an item ranked first everywhere: used to scale scores into 0..1."""
    return sum(weight / (k + 1) for weight in weights)
