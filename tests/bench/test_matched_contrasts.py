"""bench/matched_contrasts.py: the AUC it reports and the public background it reads."""

from __future__ import annotations

import math

from bench.matched_contrasts import BACKGROUND, auc, background_sentences


def test_auc_is_the_share_of_answerable_unanswerable_pairs_in_the_right_order() -> None:
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auc([0.1], [0.9]) == 0.0
    # one pair right, one wrong, one tied (counts half): (1 + 0 + 0.5) / 3
    assert auc([0.5], [0.4, 0.6, 0.5]) == 0.5
    assert auc([0.7, 0.3], [0.5]) == 0.5
    assert math.isnan(auc([], [0.5]))


def test_background_is_the_public_out_of_scope_train_text_of_every_language() -> None:
    sentences = background_sentences()
    files = sorted(path.stem for path in BACKGROUND.glob("*.yml"))
    assert files == ["ar", "en", "es", "fr", "ru", "uk", "zh"]
    assert len(sentences) > 500
    assert all(sentence and not sentence.startswith("- ") for sentence in sentences)
    assert "what is 13 times 57" in sentences  # CLINC150, nlu/data/public/en.yml
    assert any("\u4e00" <= character <= "\u9fff" for character in "".join(sentences))
