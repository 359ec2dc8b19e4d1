"""Typo tolerance: a question's unknown words are read as the indexed or glossary words they
are one or two edits away from ("pottry" -> pottery, "libary" -> library, "Pyhton" -> python,
"библиотка" -> библиотека).

Works on any alphabetic script (Latin, Cyrillic, Arabic, Greek ...): candidates share at least
half of the word's character bigrams (with start and end marks) and have a similar length,
then the optimal-string-alignment distance (an insertion, deletion, substitution or swap of
two neighbours counts one edit) decides. Words of four to nine letters may be one edit away,
longer ones two ("strumming" is two from "streaming"); shorter words are too easily another
real word.

Chinese: a word of two to four characters that neither the index nor jieba's dictionary
knows ("陶意") is read as the indexed or glossary words of the same length that differ in one
character, keeping a character that names something (陶意 -> 陶艺; 意课 stays unread, since
课 alone names nothing). A word jieba knows ("潜水", "养蜂") is never a typo. A mistyped
character that jieba cuts off on its own is left to the one-character topics (瑜枷 -> 瑜伽).

A word written in another script than Latin that is no typo of a known word is read as the
known words its romanization (`romanize.py`) is or is a typo of: "Мария Щука" -> mariya
shchuka -> "maria", "shchuka" (the Toronto branch "Maria A. Shchuka"). Only when the romanized
word is not a common word of a Latin-script language (`ROMANIZED_COMMON_ZIPF`: "парк" ->
"park" is not a name), and
whether or not the word itself is common in its own language ("щука", a pike). Chinese words
are not romanized: homophones are many, and pinyin rarely meets a Latin name ("阿尔比恩" ->
"aerbien", not "albion").

A word the language commonly uses is not a typo even when the catalog lacks it: "scuba
diving" must not become "driving" and find a driving course. `wordfreq` (word frequencies
for all seven languages) says which words are common (Zipf frequency at least
`REAL_WORD_ZIPF`, i.e. about once in a million words), in the question's language or, when
that is unknown, in the languages written in the word's script. Its "small" lists are used:
35 MB and ~50 ms to load for all six alphabetic languages (the "large" ones: 360 MB, 4 s).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from knowledge.search.glossary import Glossary
from knowledge.search.lexical import in_chinese_dictionary, is_generic_character, tokenize
from knowledge.search.romanize import romanized, sound_key

# Letters, with apostrophes inside a word (Ukrainian "комп'ютер", French "aujourd'hui"): a
# word missing its apostrophe ("компютер") is one edit from the right one.
_ALPHABETIC = re.compile(r"^[^\W\d_]+(?:['’][^\W\d_]+)*$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_WORD = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]{2,4}$")
MIN_LENGTH = 4
LENGTH_FOR_TWO_EDITS = 10
MAX_CORRECTIONS = 2  # per unknown word: the closest, ties by how common the word is
REAL_WORD_ZIPF = 3.0  # "libary", "pottry" 0; "diving" 4.0, "scuba" 3.3, "buceo" 3.4
# Words of nearly every text ("end" 5.7, "out" 6.4, "where" 6.0, "para" 6.9, "для" 6.7): they
# name no topic, whatever a catalog's word counts say ("end" in one branch's "East End").
# Topic words stay below: "class" 5.4, "book" 5.4, "computer" 5.0, "library" 4.9.
EVERYDAY_WORD_ZIPF = 5.5
# A romanized word this common in English, French or Spanish is a word, not a name: "park"
# 5.2, "centre" 5.0, "library" 4.9, "yoga" 4.2 ("парк", "центр", "йога" are found through
# the glossary). Names sit below: "albion" 3.4, "gerrard" 3.3 (Toronto branches).
ROMANIZED_COMMON_ZIPF = 4.0
_SCRIPT_LANGUAGES = (
    (re.compile(r"[\u0400-\u04ff]"), ("ru", "uk")),
    (re.compile(r"[\u0600-\u06ff]"), ("ar",)),
    (re.compile(r"[a-zà-ÿ]"), ("en", "fr", "es")),
)


def is_common_word(word: str, language: str | None = None, zipf: float = REAL_WORD_ZIPF) -> bool:
    """Whether `word` is a word people commonly write (so not a typo) in `language`, or, when
    no language is given, in a language written in its script: at least `zipf` on wordfreq's
    Zipf scale (`EVERYDAY_WORD_ZIPF`: the few hundred words of every sentence)."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # without word frequencies every unknown word may be a typo
        return False
    if language:
        languages: tuple[str, ...] = (language,)
    else:
        languages = next((found for script, found in _SCRIPT_LANGUAGES if script.search(word)), ())
    return any(zipf_frequency(word, code, wordlist="small") >= zipf for code in languages)


def correctable(word: str) -> bool:
    """Whether `word` is long enough and alphabetic (not Chinese) to be read as a typo."""
    return len(word) >= MIN_LENGTH and bool(_ALPHABETIC.match(word)) and not _CJK.search(word)


def _bigrams(word: str) -> set[str]:
    marked = f"^{word}$"
    return {marked[i : i + 2] for i in range(len(marked) - 1)}


def edit_distance(first: str, second: str, limit: int = 2) -> int:
    """Optimal string alignment distance, or `limit + 1` as soon as it must exceed `limit`."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous_row: list[int] | None = None
    row = list(range(len(second) + 1))
    for i in range(1, len(first) + 1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(second)
        for j in range(1, len(second) + 1):
            cost = 0 if first[i - 1] == second[j - 1] else 1
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + cost)
            if (
                before is not None
                and i > 1
                and j > 1
                and first[i - 1] == second[j - 2]
                and first[i - 2] == second[j - 1]
            ):
                row[j] = min(row[j], before[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
    return row[-1]


class Speller:
    """Known words by (bigram, length), so a lookup only compares words that could be close."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._by_bigram: dict[tuple[str, int], list[str]] = {}
        self._by_pattern: dict[str, list[str]] = {}  # Chinese: "陶?" -> 陶艺, 陶瓷
        self._by_sound: dict[str, list[str]] = {}  # romanize.sound_key -> Latin words
        self._known: set[str] = set()
        self.add(words)

    def __contains__(self, word: str) -> bool:
        return word in self._known

    def add(self, words: Iterable[str]) -> None:
        for word in words:
            if word in self._known:
                continue
            if _CJK_WORD.match(word):
                self._known.add(word)
                for pattern in _patterns(word):
                    self._by_pattern.setdefault(pattern, []).append(word)
                continue
            if not correctable(word):
                continue
            self._known.add(word)
            for bigram in _bigrams(word):
                self._by_bigram.setdefault((bigram, len(word)), []).append(word)
            if word.isascii() and (key := sound_key(word)):
                self._by_sound.setdefault(key, []).append(word)

    def corrections(self, word: str, language: str | None = None) -> list[str]:
        """Known words `word` may be a typo of, closest first (empty if it is known, a common
        word of `language`, or too far from any known word)."""
        if word in self._known:
            return []
        if _CJK_WORD.match(word):
            return self._chinese_corrections(word)
        if not correctable(word):
            return []
        found = self._closest(word)
        if found and not is_common_word(word, language):
            return found
        return self._romanized_corrections(word)

    def _romanized_corrections(self, word: str) -> list[str]:
        """Known words `word` names in Latin letters ("мария" -> mariya -> maria), exact or as
        close as a typo; never when the romanized word is a common word ("парк" -> park)."""
        roman = romanized(word)
        if not correctable(roman) or is_common_word(roman, zipf=ROMANIZED_COMMON_ZIPF):
            return []
        if roman in self._known:
            return [roman]
        # A name spelt as it sounds ("Хосе Эрнандес" for José Hernandez): same loose key
        return self._closest(roman) or self._by_sound.get(sound_key(roman), [])[:MAX_CORRECTIONS]

    def _closest(self, word: str) -> list[str]:
        """Known words one edit from `word` (two from a long one), closest first."""
        limit = 2 if len(word) >= LENGTH_FOR_TWO_EDITS else 1
        grams = _bigrams(word)
        shared: Counter[str] = Counter()
        for length in range(len(word) - limit, len(word) + limit + 1):
            for bigram in grams:
                shared.update(self._by_bigram.get((bigram, length), ()))
        needed = max(1, (len(grams) + 1) // 2 - limit)
        scored = []
        for candidate, count in shared.items():
            if count < needed:
                continue
            distance = edit_distance(word, candidate, limit)
            if distance <= limit:
                scored.append((distance, -count, candidate))
        if not scored:
            return []
        scored.sort()
        return [candidate for _, _, candidate in scored[:MAX_CORRECTIONS]]

    def _chinese_corrections(self, word: str) -> list[str]:
        if in_chinese_dictionary(word):
            return []
        found: list[str] = []
        for position, pattern in enumerate(_patterns(word)):
            kept = word[:position] + word[position + 1 :]
            if all(is_generic_character(character) for character in kept):
                continue  # "意课" -> "?课" would read any lesson
            found += [known for known in self._by_pattern.get(pattern, ()) if known not in found]
        return found[:MAX_CORRECTIONS]


def _patterns(word: str) -> list[str]:
    """The word with each character in turn replaced by "?"."""
    return [word[:position] + "?" + word[position + 1 :] for position in range(len(word))]


_glossary_spellers: dict[str, Speller] = {}


def glossary_speller(glossary: Glossary) -> Speller:
    """A speller over the glossary's words (as the index tokenizes them), one per version: a
    typo finds a topic the catalog only names in another language ("pottry" -> 陶艺)."""
    speller = _glossary_spellers.get(glossary.digest)
    if speller is None:
        terms = {
            term
            for by_language in glossary.concepts.values()
            for terms in by_language.values()
            for term in terms
        }
        speller = Speller(token for term in sorted(terms) for token in tokenize(term))
        _glossary_spellers.clear()
        _glossary_spellers[glossary.digest] = speller
    return speller
