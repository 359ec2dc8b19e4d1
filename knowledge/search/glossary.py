"""The topic glossary: expands a question with the same topic's words in every language.

The city edits `knowledge/glossary.yml`. Questions are read with the current file (its
modification time is checked on each search); documents carry the concepts they mention in
the index, so the index records the glossary's digest and, after an edit, the next sync
(`learncity run` or a catalog import) re-indexes the documents (nothing is embedded again).
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

GLOSSARY_PATH = Path(__file__).resolve().parent.parent / "glossary.yml"
GLOSSARY_LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru", "uk")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class GlossaryError(ValueError):
    """The glossary file is malformed; the message names the file, line and entry at fault."""


@dataclass(frozen=True)
class Expansion:
    """What a question says about topics: the concepts found and all their words."""

    concepts: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # every term of every concept found, all languages
    english_terms: tuple[str, ...] = ()  # for the (English-trained) embedding model
    # each concept found -> its terms in every language (which query words it stands for)
    concept_terms: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)


# The Arabic article and the letters that join it ("الحاسوب", "والمكتبة", "للأطفال"): a word is
# compared without them, so "الحاسوب" meets the glossary's "حاسوب".
_ARABIC_ARTICLE = re.compile(r"(?<!\w)(?:[وفبك]?ال|لل)(?=[\u0621-\u064a]{3,})")


def normalise_text(text: str) -> str:
    """NFKC, case-folded and without Arabic articles: the form every glossary and index
    comparison uses."""
    return _ARABIC_ARTICLE.sub("", unicodedata.normalize("NFKC", text).casefold())


def fold_accents(word: str) -> str:
    """A Latin word without its accents ("Núñez" and "Nuñez" -> nunez, "Pueyrredón" ->
    pueyrredon): citizens and city files add or drop them freely. Marks on other scripts stay
    (й is not и, ї is not і)."""
    if word.isascii():
        return word
    kept: list[str] = []
    for character in unicodedata.normalize("NFD", word):
        if unicodedata.combining(character) and kept and kept[-1].isascii():
            continue
        kept.append(character)
    return unicodedata.normalize("NFC", "".join(kept))


def _compared(text: str) -> str:
    """The form glossary terms and texts meet in: normalised and, as the lexical index does,
    Latin words without accents ("taichí" meets "taichi", "éducation" meets "education")."""
    return fold_accents(normalise_text(text))


_CYRILLIC_WORD = re.compile(r"^[\u0400-\u04ff]+$")
_LATIN_WORD = re.compile(r"^[a-z\u00c0-\u024f]+$")
_CYRILLIC_VOWEL_ENDING = "аяоеёьйыиуюєії"


def _inflected(term: str) -> str:
    """A pattern for `term` with the endings its words may take: a plural "s"/"es" or "x" for
    the last word when it is Latin of four letters or more; case endings for every Cyrillic
    word (up to two final vowels may change: библиотека, библиотеки; китайский язык,
    китайского языка). Other words match as written."""
    words = term.split(" ")
    parts = [_inflected_cyrillic(word) for word in words[:-1]]
    last = words[-1]
    if len(last) < 4:
        parts.append(re.escape(last))
    elif _CYRILLIC_WORD.match(last):
        parts.append(_inflected_cyrillic(last))
    elif _LATIN_WORD.match(last):
        parts.append(re.escape(last) + r"(?:e?s|x)?")
    else:
        parts.append(re.escape(last))
    return " ".join(parts)


def _inflected_cyrillic(word: str) -> str:
    if len(word) < 4 or not _CYRILLIC_WORD.match(word):
        return re.escape(word)
    stem = word
    while len(stem) > len(word) - 2 and len(stem) > 3 and stem[-1] in _CYRILLIC_VOWEL_ENDING:
        stem = stem[:-1]
    return re.escape(stem) + r"\w{0,3}"


def written_as(term: str, word: str) -> bool:
    """Whether `word` (one normalised word of a question) is `term` (one word) with an ending
    the glossary allows ("китайского" for "китайский", "poteries" for "poterie")."""
    return word == term or _inflected_pattern(term).fullmatch(word) is not None


@lru_cache(maxsize=8192)
def _inflected_pattern(term: str) -> re.Pattern[str]:
    return re.compile(_inflected(term))


class _InflectedTerms:
    """One language's words with the endings they may take, and the way back to the term."""

    def __init__(self, terms: list[str]) -> None:
        self._patterns = [(re.compile(_inflected(term)), term) for term in terms]
        alternatives = "|".join(_inflected(term) for term in terms)
        self._matcher = re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)") if terms else None

    def terms_in(self, normalised: str) -> list[str]:
        if self._matcher is None:
            return []
        found = []
        for match in self._matcher.finditer(normalised):
            for pattern, term in self._patterns:
                if pattern.fullmatch(match.group(0)):
                    found.append(term)
                    break
        return found


class Glossary:
    """Concepts and their terms, with one compiled matcher for the whole file."""

    def __init__(self, concepts: dict[str, dict[str, tuple[str, ...]]], digest: str = "") -> None:
        self.concepts = concepts
        self.digest = digest  # of the file's text: recorded in the index manifest
        self._concepts_by_term: dict[str, set[str]] = {}
        for key, by_language in concepts.items():
            for terms in by_language.values():
                for term in terms:
                    self._concepts_by_term.setdefault(_compared(term), set()).add(key)
        ordered = sorted(self._concepts_by_term, key=len, reverse=True)
        cjk_terms = [re.escape(term) for term in ordered if _CJK.search(term)]
        word_terms = [re.escape(term) for term in ordered if not _CJK.search(term)]
        parts = []
        if word_terms:
            parts.append(r"(?<!\w)(?:" + "|".join(word_terms) + r")(?!\w)")
        if cjk_terms:
            parts.append("(?:" + "|".join(cjk_terms) + ")")
        self._matcher = re.compile("|".join(parts)) if parts else None
        self._inflected = {
            language: _InflectedTerms(terms)
            for language, terms in self._word_terms_by_language().items()
        }

    def _word_terms_by_language(self) -> dict[str, list[str]]:
        by_language: dict[str, set[str]] = {}
        for by_lang in self.concepts.values():
            for language, terms in by_lang.items():
                for term in terms:
                    normalised = _compared(term)
                    if not _CJK.search(normalised):
                        by_language.setdefault(language, set()).add(normalised)
        return {
            language: sorted(terms, key=len, reverse=True)
            for language, terms in by_language.items()
        }

    def concepts_in(self, text: str, language: str | None = None) -> tuple[str, ...]:
        """The concept keys whose terms occur in `text`, in order of first mention. With the
        text's `language`, that language's words also match with their usual endings
        ("bibliotecas", "библиотеки"); without it (documents, unknown questions) only as
        written, since an ending in one language can make a word of another ("lectures")."""
        if self._matcher is None:
            return ()
        normalised = _compared(text)
        found: dict[str, None] = {}
        for match in self._matcher.finditer(normalised):
            for key in sorted(self._concepts_by_term.get(match.group(0), ())):
                found[key] = None
        inflected = self._inflected.get(language or "")
        if inflected is not None:
            for term in inflected.terms_in(normalised):
                for key in sorted(self._concepts_by_term.get(term, ())):
                    found[key] = None
        return tuple(found)

    def expand(self, text: str, language: str | None = None) -> Expansion:
        """The concepts mentioned in `text` and every word the glossary has for them."""
        keys = self.concepts_in(text, language)
        terms: dict[str, None] = {}
        english: dict[str, None] = {}
        for key in keys:
            for language, words in self.concepts[key].items():
                for word in words:
                    terms[word] = None
                    if language == "en":
                        english[word] = None
        return Expansion(
            concepts=keys,
            terms=tuple(terms),
            english_terms=tuple(english),
            concept_terms={
                key: tuple(word for words in self.concepts[key].values() for word in words)
                for key in keys
            },
        )


def load_glossary(path: Path = GLOSSARY_PATH) -> Glossary:
    """Read and check a glossary file; raise `GlossaryError` naming the file and line at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise GlossaryError(f"{path}: cannot read the glossary ({error})") from error
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        raise GlossaryError(f"{path}: not valid YAML: {error}") from error
    if root is None or not isinstance(root, yaml.MappingNode):
        raise GlossaryError(f"{path}:1: expected a mapping with the key 'concepts'")
    concepts_node = _value_of(root, "concepts")
    if not isinstance(concepts_node, yaml.MappingNode):
        line = concepts_node.start_mark.line + 1 if concepts_node is not None else 1
        raise GlossaryError(f"{path}:{line}: 'concepts' must map concept keys to languages")
    concepts: dict[str, dict[str, tuple[str, ...]]] = {}
    for key_node, languages_node in concepts_node.value:
        key = key_node.value
        where = f"{path}:{key_node.start_mark.line + 1}: concept '{key}'"
        if key in concepts:
            raise GlossaryError(f"{where}: defined twice")
        if not isinstance(languages_node, yaml.MappingNode) or not languages_node.value:
            raise GlossaryError(
                f"{where}: expected language codes ({', '.join(GLOSSARY_LANGUAGES)})"
            )
        concepts[key] = _read_languages(path, key, languages_node)
    return Glossary(concepts, hashlib.sha256(text.encode()).hexdigest()[:16])


def _read_languages(path: Path, key: str, node: yaml.MappingNode) -> dict[str, tuple[str, ...]]:
    by_language: dict[str, tuple[str, ...]] = {}
    for language_node, terms_node in node.value:
        language = language_node.value
        where = (
            f"{path}:{language_node.start_mark.line + 1}: concept '{key}', language '{language}'"
        )
        if language not in GLOSSARY_LANGUAGES:
            raise GlossaryError(
                f"{where}: unknown language code (use {', '.join(GLOSSARY_LANGUAGES)})"
            )
        if not isinstance(terms_node, yaml.SequenceNode):
            raise GlossaryError(f"{where}: expected a list such as [pottery, ceramics]")
        terms = []
        for term_node in terms_node.value:
            term = term_node.value if isinstance(term_node, yaml.ScalarNode) else None
            if not isinstance(term, str) or not term.strip():
                line = term_node.start_mark.line + 1
                raise GlossaryError(
                    f"{path}:{line}: concept '{key}', language '{language}': empty or nested term"
                )
            terms.append(term.strip())
        by_language[language] = tuple(terms)
    return by_language


def _value_of(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value_node in mapping.value:
        if key_node.value == key:
            return value_node
    return None


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[int, Glossary]] = {}


def get_glossary(path: Path = GLOSSARY_PATH) -> Glossary:
    """The glossary, re-read whenever the file changes (one `stat` per call)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise GlossaryError(f"{path}: cannot read the glossary ({error})") from error
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        glossary = load_glossary(path)
        _cache[path] = (stamp, glossary)
        return glossary
