"""Which language a citizen wrote in: script first, then Lingua's n-gram models within the script.

Han and Arabic script name their language among the seven we serve. Within Cyrillic (ru, uk)
and Latin (en, es, fr) a statistical detector made for short text decides: Lingua
(`lingua-language-detector`, Apache-2.0) in high-accuracy mode, limited to the languages of
that script, plus Portuguese so that Portuguese text reads as unknown (the conversation keeps
its language) instead of as Spanish. Measured on held-out Tatoeba sentences (`python -m
nlu.language_eval`, docs/language-identification.md): 0.99+ on 5+ words, 0.96+ on 1-4 words
for every language; under 0.3 ms a message (p95); its models for these six languages take
about 195 MB, loaded once per process (`load_models()`, about 3 s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED_LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru", "uk")
# Each language's name in itself: for language buttons and per-language text boxes.
NATIVE_LANGUAGE_NAMES = {
    "zh": "中文",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "ar": "العربية",
    "ru": "Русский",
    "uk": "Українська",
}
DEFAULT_LANGUAGE = "en"

# Chosen on the dev split of tests/nlu/language/tatoeba_sample.tsv (never on the held-out one).
PORTUGUESE_CONFIDENCE = 0.7  # Portuguese this sure: unknown (keep the conversation's language)
HINT_MARGIN = 0.1  # a client's language wins when it is this close to the best reading
CLEAR_CONFIDENCE = 0.8  # this sure, CLEAR_WORDS words or more: "clear" (dev: 0 wrong of 967)
CLEAR_WORDS = 2
# One word that no language reads as more likely than not is a guess ("hello" reads as es
# 0.47, en 0.30): no signal, so the conversation's, the client's or the default language wins.
ONE_WORD_CONFIDENCE = 0.5

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W\d_]+")  # words of letters: "hello 4" is one word

# Romanised greetings and courtesies (marker words, companion words that only count beside a
# marker). Pinyin is compared with its spaces removed ("ni hao" = "nihao").
TRANSLITERATED_CONFIDENCE = 0.9
_PINYIN_COURTESIES = frozenset(
    {"nihao", "ninhao", "nihaoma", "dajiahao", "xiexie", "xiexieni", "zaijian", "zaoshanghao"}
)
_ROMANISED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "ru": (
        frozenset(
            {"privet", "privetik", "zdravstvuyte", "zdravstvuite", "zdrasti", "spasibo", "poka"}
        ),
        frozenset({"kak", "dela", "vsem", "bolshoe", "dobryy", "den", "vecher", "utro"}),
    ),
    "uk": (
        frozenset({"pryvit", "vitayu", "vitaiu", "dyakuyu", "diakuiu", "buvai", "buvay"}),
        frozenset({"yak", "spravy", "vsim", "dobryi", "den", "duzhe"}),
    ),
    "ar": (
        frozenset(
            {"marhaba", "marhaban", "salam", "salaam", "assalamu", "alaikum", "alaykum", "shukran"}
            | {"ahlan", "habibi"}
        ),
        frozenset({"wa", "as", "sabah", "alkhair", "alkheir", "sahlan"}),
    ),
}

_CYRILLIC_GROUP = (Language.RUSSIAN, Language.UKRAINIAN)
_LATIN_GROUP = (Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.PORTUGUESE)


@dataclass(frozen=True)
class LanguageReading:
    """What a message says about its language: the code (None: no signal or unsupported)."""

    language: str | None
    confidence: float
    words: int

    @property
    def clear(self) -> bool:
        """Sure enough to change a language the citizen chose."""
        return (
            self.language is not None
            and self.confidence >= CLEAR_CONFIDENCE
            and self.words >= CLEAR_WORDS
        )


def read_language(text: str, hint: str | None = None) -> LanguageReading:
    """The language of `text` with how sure the reading is.

    `hint` (a client's language) wins when the text hardly tells two languages of one script
    apart ("Python" from a French client is French).
    """
    if not text or not text.strip() or text.lstrip().startswith("/"):
        return LanguageReading(None, 0.0, 0)
    words = len(_WORD.findall(text))
    if _HAN.search(text):
        return LanguageReading("zh", 1.0, max(words, 1))
    if _ARABIC.search(text):
        return LanguageReading("ar", 1.0, words)
    if _CYRILLIC.search(text):
        return _within_script(text, _cyrillic_detector(), normalise_language(hint), words)
    if _LATIN.search(text):
        transliterated = transliterated_language(text)
        if transliterated is not None:
            return LanguageReading(transliterated, TRANSLITERATED_CONFIDENCE, words)
        return _within_script(text, _latin_detector(), normalise_language(hint), words)
    return LanguageReading(None, 0.0, words)


def transliterated_language(text: str) -> str | None:
    """The language of a Latin-script greeting or courtesy typed by someone without their own
    keyboard ("privet", "marhaba", "ni hao"): Lingua reads these as English or French.

    Every word must be one of that language's romanised courtesy words and at least one a
    marker word that is no English, Spanish or French word, so "den" or "kak" alone and any
    ordinary Latin sentence are left to the detector.
    """
    words = _WORD.findall(text.lower())
    if not words:
        return None
    if "".join(words) in _PINYIN_COURTESIES:
        return "zh"
    for language, (markers, companions) in _ROMANISED.items():
        if all(w in markers or w in companions for w in words) and any(w in markers for w in words):
            return language
    return None


def detect_language(text: str, hint: str | None = None) -> str | None:
    """Return the language code of `text`, or `None` when the text gives no usable signal."""
    return read_language(text, hint).language


def load_models() -> None:
    """Load the detector's models now (about 3 s, 200 MB) rather than on a citizen's first message."""
    _cyrillic_detector()
    _latin_detector()


def normalise_language(code: str | None) -> str | None:
    """Map a client's language tag (`zh-Hans`, `en_GB`, `UK`) to a supported code, if any."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower())[0]
    return base if base in SUPPORTED_LANGUAGES else None


def _within_script(
    text: str, detector: LanguageDetector, hint: str | None, words: int
) -> LanguageReading:
    values = detector.compute_language_confidence_values(text)
    scores = {_code(value.language): value.value for value in values}
    best = max(scores, key=lambda code: scores[code])
    if hint in scores and scores[hint] >= scores[best] - HINT_MARGIN:
        return LanguageReading(hint, scores[hint], words)
    if best == "pt":
        if scores["pt"] >= PORTUGUESE_CONFIDENCE:
            return LanguageReading(None, scores["pt"], words)
        del scores["pt"]
        best = max(scores, key=lambda code: scores[code])
    if words <= 1 and scores[best] < ONE_WORD_CONFIDENCE:
        return LanguageReading(None, scores[best], words)
    return LanguageReading(best, scores[best], words)


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


@cache
def _cyrillic_detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*_CYRILLIC_GROUP)
        .with_preloaded_language_models()
        .build()
    )


@cache
def _latin_detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*_LATIN_GROUP)
        .with_preloaded_language_models()
        .build()
    )
