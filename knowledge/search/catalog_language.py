"""Which languages a catalog is written in, read from its own indexed words.

A question's word that no item holds says the catalog lacks something only when the catalog
could have said that word: "violin" asked of an English catalog is missing, but "escuela" or
"подростков" asked of an English catalog is merely in another language. Measured on the two
test catalogs (words whose most likely language, by `wordfreq`, is the one asked): Toronto's
English branch descriptions en 0.56, es 0.04, fr 0.05; the sample city en 0.85, fr 0.07,
es 0.02 and 465 Chinese words; so a share of 0.2 tells them apart. Chinese and Arabic are the
only languages of their scripts here: a catalog holding enough words in that script speaks it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Languages sharing a script are told apart by word frequencies; the others by script alone.
_SHARED_SCRIPTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^[a-zà-ÿœç'’-]+$"), ("en", "es", "fr")),
    (re.compile(r"^[\u0400-\u04ff'’-]+$"), ("ru", "uk")),
)
_OWN_SCRIPTS = {
    "zh": re.compile(r"[\u3400-\u9fff\uf900-\ufaff]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
}
SAMPLE = 3000  # words looked at, spread over the vocabulary
WORDS_IN_SCRIPT = 20  # fewer words than this in a script: the catalog does not write in it
LANGUAGE_SHARE = 0.2  # of the words in a shared script, whose most likely language is this one
_COMMON_ZIPF = 2.5  # a word below this frequency in every candidate language belongs to none


def written_in(vocabulary: Sequence[str], language: str) -> bool:
    """Whether a catalog whose indexed words are `vocabulary` is written (partly) in
    `language`; True when that cannot be judged (an unknown language, no `wordfreq`)."""
    words = vocabulary[:: max(1, len(vocabulary) // SAMPLE)]
    if language in _OWN_SCRIPTS:
        script = _OWN_SCRIPTS[language]
        return sum(1 for word in words if script.search(word)) >= WORDS_IN_SCRIPT
    for script, languages in _SHARED_SCRIPTS:
        if language in languages:
            in_script = [word for word in words if script.match(word)]
            if len(in_script) < WORDS_IN_SCRIPT:
                return False
            return _share_most_likely(in_script, language, languages) >= LANGUAGE_SHARE
    return True


def _share_most_likely(words: list[str], language: str, candidates: tuple[str, ...]) -> float:
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        return 1.0
    mine = 0
    for word in words:
        frequencies = {code: zipf_frequency(word, code, wordlist="small") for code in candidates}
        best = max(frequencies, key=lambda code: frequencies[code])
        mine += best == language and frequencies[best] >= _COMMON_ZIPF
    return mine / len(words)
