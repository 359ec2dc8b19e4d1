"""Names written in another script: the Latin romanization of a word, so a citizen can name
a place in their own script ("Мария Щука" for "Maria A. Shchuka") or in Latin letters for a
Chinese-named one ("Beishan" for 北山).

anyascii (ISC licence, 2.6 MB, no dependencies) romanizes every script the chat's seven
languages use: Cyrillic by the usual tables ("Щука" -> "shchuka", "Юрій" -> "yuriy"), Arabic
letter by letter without the unwritten short vowels ("ألبيون" -> "lbywn"), Chinese as pinyin
without tones, one syllable per character ("北山" -> "beishan"). Chinese is romanized word by
word (jieba's precise cut), so a place's name gives the pinyin a Latin-script citizen would
write for it ("北山街道图书室" -> "beishan jiedao tushushi"). Only words not written in Latin
letters are romanized: "Montréal" is already matched by the typo-tolerant comparison.
"""

from __future__ import annotations

import re

from anyascii import anyascii

from knowledge.search.glossary import normalise_text
from knowledge.search.lexical import cut_words

_NOT_LATIN_WORD = re.compile(r"[^\W\d_a-z\u00c0-\u024f]+(?:['’ʼ][^\W\d_a-z\u00c0-\u024f]+)*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOT_LETTER = re.compile(r"[^a-z]+")


def romanized(word: str) -> str:
    """`word` in lower-case Latin letters ("Мария" -> "mariya", "Al'bion" apostrophes dropped);
    "" when it holds a Latin letter or a digit (it needs no romanization) or gives no letters."""
    if not word or not _NOT_LATIN_WORD.fullmatch(normalise_text(word)):
        return ""
    return _NOT_LETTER.sub("", anyascii(word).lower())


def romanized_text(text: str) -> str:
    """The romanization of the words of `text` not written in Latin letters, space-separated:
    Chinese word by word ("北山路41号" -> "beishan lu hao"), other scripts word by word."""
    words: list[str] = []
    for match in _NOT_LATIN_WORD.finditer(normalise_text(text)):
        run = match.group(0)
        pieces = cut_words(run) if _CJK.search(run) else [run]
        words += [romanized(piece) for piece in pieces]
    return " ".join(word for word in words if word)


# How a name written in Latin letters sounds, loosely, so its spelling in another script meets
# it: Spanish j, g before e/i and silent h against Cyrillic х ("José" / "Хосе" -> "khose"), c
# and z against с, ll against ль, v against в or б, a Slavic case ending against the
# name's vowel ("Recoleta" / "Реколеті"). Both sides go through the same rules.
_SOUND_RULES = (
    (re.compile(r"kh|h|j|g(?=[ei])"), ""),
    (re.compile(r"c(?=[ei])|z"), "s"),
    (re.compile(r"qu|c"), "k"),
    (re.compile(r"[vw]"), "b"),
    (re.compile(r"y"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
    (re.compile(r"[aeiou]+$"), ""),
)
SOUND_KEY_MIN_LENGTH = 4  # shorter keys meet too many words


def sound_key(word: str) -> str:
    """A loose key of a lower-case Latin word ("jose", "khose" -> "os"; "caballito",
    "kabalito" -> "kabalit"); "" when it is too short to tell names apart."""
    key = word
    for pattern, replacement in _SOUND_RULES:
        key = pattern.sub(replacement, key)
    return key if len(key) >= SOUND_KEY_MIN_LENGTH else ""
