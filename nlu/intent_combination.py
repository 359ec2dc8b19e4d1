"""How two intent readings are combined: the weighted geometric mean, renormalised.

Pure numpy, no Rasa: the pipeline component (`nlu.components.meaning_ensemble`) uses it at
parse time and `nlu.ensemble_replay` replays it offline on validation rankings, so the numbers
chosen offline are the numbers the model computes.
"""

from __future__ import annotations

import numpy as np

FLOOR = 1e-4  # probability given to an intent one reading left out (DIET ranks only ten)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities from the logistic regression's scores (one row)."""
    shifted = np.exp(scores - scores.max())
    return np.asarray(shifted / shifted.sum())


def combine(
    words: dict[str, float], meaning: dict[str, float], weight: float
) -> list[tuple[str, float]]:
    """p ∝ p_words ** (1 - weight) * p_meaning ** weight over the intents either names, best first.

    When the two agree the top intent keeps its confidence; when they disagree it drops, so
    the fallback turns the sentence down and the intent guard asks before acting."""
    names = set(words) | set(meaning)
    scores = {
        name: (1.0 - weight) * np.log(max(words.get(name, 0.0), FLOOR))
        + weight * np.log(max(meaning.get(name, 0.0), FLOOR))
        for name in names
    }
    peak = max(scores.values())
    unnormalised = {name: float(np.exp(score - peak)) for name, score in scores.items()}
    total = sum(unnormalised.values())
    return sorted(
        ((name, value / total) for name, value in unnormalised.items()),
        key=lambda pair: (-pair[1], pair[0]),
    )
