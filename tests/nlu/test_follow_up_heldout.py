"""The held-out follow-up turns (tests/nlu/follow_ups) stay apart from training and cover
every language, so the follow-up accuracy reported for issue 10 is measured on unseen text."""

from __future__ import annotations

import re
from collections import Counter

from core.settings import REPOSITORY_ROOT
from nlu.nlu_data import TRAINING_DIR, language_files, read_examples

FOLLOW_UPS_DIR = REPOSITORY_ROOT / "tests" / "nlu" / "follow_ups"
LANGUAGES = {"zh", "en", "es", "fr", "ar", "ru", "uk"}


def _plain(text: str) -> str:
    return re.sub(r"[\s\W_]+", " ", text.lower()).strip()


def _follow_ups():
    return [e for path in language_files(FOLLOW_UPS_DIR) for e in read_examples(path)]


def test_no_held_out_follow_up_appears_in_the_training_data() -> None:
    training = {
        _plain(e.text) for path in language_files(TRAINING_DIR) for e in read_examples(path)
    }
    copied = [e.text for e in _follow_ups() if _plain(e.text) in training]
    assert copied == []


def test_every_language_has_ten_held_out_follow_ups_that_refine_a_search() -> None:
    per_language = Counter(e.language for e in _follow_ups() if e.intent == "inform")
    assert set(per_language) == LANGUAGES
    assert min(per_language.values()) >= 10, per_language
