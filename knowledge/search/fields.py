"""What an item shows each retriever: its topic text, and its name fields for exact matches.

- `index_text(item)`: what the dense and lexical retrievers see (name, description, topics,
  district; a space's place and amenities). A language the item is *taught in* is not its
  topic: "taught in Mandarin with English support", "Tai Chi ... taught in English and
  Chinese", "Driving Theory in English" made those courses English courses (found by
  "English", shown among them, and brought back by "更多"). So the words naming one of the
  item's languages of instruction (`CatalogItem.languages`) are left out of its description,
  and out of its name where they follow "in"/"en"/"на" ("... in English"); the glossary's
  language concepts say which words name which language.
- `passages(item)`: what the dense vector is made of (`item_vectors.py`): a heading (name,
  topics, place, amenities, district) and each sentence of the description (`sentences.py`
  says where one ends: not at "St." or "e.g.", not inside brackets, ...). The description is
  cut before its teaching-language words are left out, which lower-cases it.
- `name_text(item)`: name, address and district, the fields an exact question names
  ("Albion library", "library at 1515 Albion Road"): indexed apart so a match there can
  outrank many generic matches elsewhere. Its words written in another script than Latin
  are indexed in Latin letters too (`romanize.py`): "北山路" also as "beishan lu", so a
  Latin-script question finds it, and a romanized question word meets it (`spelling.py`).
"""

from __future__ import annotations

import re

from knowledge.documents import CatalogItem
from knowledge.search.glossary import Glossary, get_glossary, normalise_text
from knowledge.search.romanize import romanized_text
from knowledge.search.sentences import sentences

# Which glossary concept names which language of instruction (ISO code).
LANGUAGE_CONCEPTS = {
    "en": "english",
    "zh": "mandarin",
    "es": "spanish",
    "fr": "french",
    "ru": "russian",
    "ar": "arabic",
    "ja": "japanese",
}
_EXTRA_WORDS = {"zh": ("chinese",)}  # "taught in Chinese": not a glossary term on its own
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def index_text(item: CatalogItem) -> str:
    """The text both retrievers see. Unlike `CatalogItem.search_text`, a course's or event's
    venue is left out: "library" should find libraries, not every course held in one."""
    name, description = _without_teaching_language(item)
    parts = [name, description, " ".join(item.topics)]
    if item.type == "space":
        parts += [item.place_name, " ".join(item.amenities)]
    parts.append(item.district)
    return " \n".join(part for part in parts if part)


def passages(item: CatalogItem) -> list[str]:
    """The texts the item's dense vector averages: a heading, then each description sentence,
    so one offer among many keeps its own direction (see `item_vectors.py`)."""
    name = _without_teaching_language(item)[0]
    heading = [name, " ".join(item.topics)]
    if item.type == "space":
        heading += [item.place_name, " ".join(item.amenities)]
    heading.append(item.district)
    first = ", ".join(part for part in heading if part.strip())
    described = [_without_teaching_words(item, text) for text in sentences(item.description)]
    return [" ".join(text.split()) for text in (first, *described) if text.strip()]


def name_text(item: CatalogItem) -> str:
    """Name, address and district: what an exact question names."""
    parts = [_without_teaching_language(item)[0], item.address, item.district]
    if item.type == "space" and item.place_name != item.name:
        parts.append(item.place_name)
    parts.append(romanized_text(" ".join(parts)))  # "北山路" also as "beishan lu" (romanize.py)
    return " \n".join(part for part in parts if part)


def _without_teaching_language(item: CatalogItem) -> tuple[str, str]:
    """The item's name and description without the words naming its languages of teaching."""
    patterns = _teaching_patterns(get_glossary(), tuple(sorted(set(item.languages))))
    name, description = item.name, item.description
    if patterns is None:
        return name, description
    in_name, anywhere = patterns
    if in_name.search(normalise_text(name)):
        name = in_name.sub(" ", normalise_text(name))
    return name, _without_words(anywhere, description)


def _without_teaching_words(item: CatalogItem, text: str) -> str:
    """`text` (a part of the item's description) without the words naming its languages of
    teaching."""
    patterns = _teaching_patterns(get_glossary(), tuple(sorted(set(item.languages))))
    return text if patterns is None else _without_words(patterns[1], text)


def _without_words(words: re.Pattern[str], text: str) -> str:
    normalised = normalise_text(text)
    return words.sub(" ", normalised) if words.search(normalised) else text


def _words_for(glossary: Glossary, language: str) -> list[str]:
    concept = glossary.concepts.get(LANGUAGE_CONCEPTS.get(language, ""), {})
    words = {normalise_text(word) for terms in concept.values() for word in terms}
    words.update(_EXTRA_WORDS.get(language, ()))
    return sorted(words, key=len, reverse=True)


_patterns: dict[tuple[str, tuple[str, ...]], tuple[re.Pattern[str], re.Pattern[str]] | None] = {}


def _teaching_patterns(
    glossary: Glossary, languages: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """(words after "in"/"en"/"на", words anywhere) naming one of `languages`; None if none."""
    if not languages:
        return None
    key = (glossary.digest, languages)
    if key not in _patterns:  # a handful of language sets per glossary version
        _patterns[key] = _compile(glossary, languages)
    return _patterns[key]


def _compile(
    glossary: Glossary, languages: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    words = [word for language in languages for word in _words_for(glossary, language)]
    if not words:
        return None
    latin = [re.escape(word) for word in words if not _CJK.search(word)]
    chinese = [re.escape(word) for word in words if _CJK.search(word)]
    alternatives = []
    if latin:
        alternatives.append(r"(?<!\w)(?:" + "|".join(latin) + r")(?!\w)")
    if chinese:
        alternatives.append("(?:" + "|".join(chinese) + ")")
    anywhere = re.compile("|".join(alternatives))
    in_name = re.compile(r"(?<!\w)(?:in|en|на)\s+(?:" + "|".join(alternatives) + ")")
    return in_name, anywhere
