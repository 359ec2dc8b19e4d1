"""Names a question asks for: "library in Villa Ortúzar", "bibliothèque à Nueva Pompeya".

A citizen writes a place or a person with capitals; when the words are not common words of
their language ("Ortúzar", "Coghlan", "Pompeya", "Монте"; not "English", "Saturday", "Public"),
the question is restricted to that name. An item answers it only if it holds the whole name,
every word of it, in its text, name, address or district (or a word the name's word is a typo
or a romanization of): "Villa Ortúzar" is not answered by the libraries of "Villa Lugano", nor
"San Telmo" by those of "San Nicolas". Common words at a name's edges are dropped ("San" of
"San Telmo", "Biblioteca" of "Biblioteca Popular Eurindia"), since the catalog may write them
in another language. The places and names come from the catalog itself, so this holds for any
city. Scripts without capitals (Chinese, Arabic) name nothing here: their names are read by the
usual evidence alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from knowledge.search.glossary import Expansion, written_as
from knowledge.search.lexical import LexicalIndex, tokenize
from knowledge.search.romanize import romanized, sound_key
from knowledge.search.spelling import is_common_word

# A capitalized word below this Zipf frequency in the question's language is a name: "telmo"
# 3.3 (es), "монте" 3.2 (uk), "palermo" 3.1, "albion" 3.4 (en); words above it are words even
# when capitalized: "python" 3.8, "puerto" 4.0 (en), "toronto" 4.5, "english" 5.2.
NAME_ZIPF = 3.5
# Right after "in", "en", "à", "в" ... a capitalized word is a place up to this frequency: a
# city's well-known barrios are words of its language ("urquiza" 3.5, "belgrano" 4.0, "retiro"
# 4.4 in Spanish); months and weekdays stay out ("in December" 5.1, "on Saturday" 4.9).
PLACE_ZIPF = 4.5
_LOCATIVES = frozenset(
    [
        "in",
        "at",
        "near",
        "around",
        "en",
        "à",
        "a",
        "dans",
        "près",
        "в",
        "во",
        "на",
        "у",
        "около",
        "возле",
        "біля",
        "поблизу",
    ]
)
# Words of alphabetic scripts (not Chinese or Japanese: they write no capitals).
_WORD = re.compile(r"[^\W\d_\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+(?:['’][^\W\d_]+)*")
_LATIN = re.compile(r"[a-z\u00c0-\u024f]")
_BETWEEN_NAME_WORDS = re.compile(r"[\s\-]*")

# A name: for each of its words, the tokens any of which holds that word.
AskedName = list[list[str]]


def asked_names(
    text: str,
    language: str | None,
    corrections: Mapping[str, Sequence[str]],
    topics: Expansion | None = None,
) -> list[AskedName]:
    """The names `text` writes with capitals, each word with the indexed words its typo or
    romanization stands for (`corrections`, from `HybridIndex.corrections`); a word the
    glossary reads as a topic (`topics`: "English", "Python") is no name."""
    names: list[AskedName] = []
    terms = [] if topics is None else [t for ts in topics.concept_terms.values() for t in ts]
    for after_locative, run in _capitalized_runs(text):
        zipf = PLACE_ZIPF if after_locative else NAME_ZIPF
        rare = [
            not _common(word.casefold(), language, zipf) and not _topic(word, terms) for word in run
        ]
        if not any(rare):
            continue
        first, last = rare.index(True), len(rare) - 1 - rare[::-1].index(True)
        name = []
        for word in run[first : last + 1]:
            for token in tokenize(word):
                fixed = [*corrections.get(token, ()), *_romanized_tokens(token)]
                if fixed or _LATIN.search(token) or sound_key(romanized(token)):
                    name.append([token, *fixed])
                # else: a short word of another script that romanizes to no indexed word:
                # whether the catalog holds it cannot be told ("Хосе" for José), so it
                # restricts nothing
        if name:
            names.append(name)
    return names


def holds_names(
    names: Sequence[AskedName], slots: np.ndarray, topics: LexicalIndex, fields: LexicalIndex
) -> np.ndarray:
    """Which of `slots` hold every word of every asked name (all of them when none is asked)."""
    held = np.ones(len(slots), dtype=bool)
    for name in names:
        for alternatives in name:
            word_held = np.zeros(len(slots), dtype=bool)
            for token in alternatives:
                word_held |= topics.present(token, slots) | fields.present(token, slots)
            held &= word_held
    return held


def name_tokens(names: Sequence[AskedName]) -> set[str]:
    """Every token the names hold, their corrections included (they are no other part)."""
    return {token for name in names for word in name for token in word}


def _capitalized_runs(text: str) -> list[tuple[bool, list[str]]]:
    """Runs of adjacent words written with an initial capital letter, each with whether it
    follows a locative preposition ("in", "en", "à", "в")."""
    runs: list[tuple[bool, list[str]]] = []
    current: list[str] = []
    after_locative = previous_locative = False
    last_end = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        adjacent = bool(_BETWEEN_NAME_WORDS.fullmatch(text[last_end : match.start()]))
        if current and not adjacent:
            runs.append((after_locative, current))
            current = []
        if word[0].isupper() and len(word) > 1:
            if not current:
                after_locative = previous_locative
            current.append(word)
        elif current:
            runs.append((after_locative, current))
            current = []
        previous_locative = word.casefold() in _LOCATIVES
        last_end = match.end()
    if current:
        runs.append((after_locative, current))
    return runs


def _romanized_tokens(token: str) -> list[str]:
    """A word of another script as the index holds it in Latin letters ("бельграно" ->
    belgrano), even when that is a common word the speller would not offer."""
    if _LATIN.search(token):
        return []
    return tokenize(romanized(token))


def _topic(word: str, terms: Sequence[str]) -> bool:
    """Whether the glossary reads `word` as (part of) a topic's term."""
    words = tokenize(word)
    return any(
        written_as(part, token) for term in terms for part in tokenize(term) for token in words
    )


@lru_cache(maxsize=8192)
def _common(word: str, language: str | None, zipf: float) -> bool:
    return is_common_word(word, language, zipf)
