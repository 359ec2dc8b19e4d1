"""Which language a citizen wrote in: script first, then common words for Latin and Cyrillic."""

from __future__ import annotations

import re

SUPPORTED_LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru", "uk")
DEFAULT_LANGUAGE = "en"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN_LETTERS = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_LETTERS = re.compile(r"[ыэъЫЭЪё]")
_LATIN_WORD = re.compile(r"[a-zà-öø-ÿœç']+", re.IGNORECASE)

_LATIN_MARKERS = {
    "es": {
        "hola",
        "quiero",
        "aprender",
        "clases",
        "clase",
        "curso",
        "cursos",
        "dónde",
        "donde",
        "puedo",
        "gracias",
        "ayuda",
        "biblioteca",
        "soy",
        "nuevo",
        "nueva",
        "llegué",
        "idioma",
        "español",
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "para",
        "en",
        "por",
        "cerca",
        "mí",
        "buenos",
        "días",
        "tengo",
        "hijos",
        "necesito",
        "busco",
        "gratis",
        "cómo",
        "qué",
        "hay",
        "una",
        "un",
        "mi",
        "y",
        "con",
        "estudiar",
        "adiós",
    },
    "fr": {
        "bonjour",
        "salut",
        "je",
        "veux",
        "apprendre",
        "cours",
        "où",
        "ou",
        "puis",
        "merci",
        "aide",
        "bibliothèque",
        "suis",
        "nouveau",
        "nouvelle",
        "arrivé",
        "arrivée",
        "langue",
        "français",
        "le",
        "la",
        "les",
        "des",
        "du",
        "pour",
        "près",
        "de",
        "moi",
        "j'ai",
        "enfants",
        "besoin",
        "cherche",
        "gratuit",
        "comment",
        "quoi",
        "il",
        "y",
        "a",
        "une",
        "un",
        "mon",
        "ma",
        "et",
        "avec",
        "étudier",
        "au",
        "revoir",
        "ai",
        "est",
        "qu'il",
    },
    "en": {
        "hello",
        "hi",
        "hey",
        "i",
        "want",
        "learn",
        "class",
        "classes",
        "course",
        "courses",
        "where",
        "can",
        "thanks",
        "thank",
        "help",
        "library",
        "am",
        "new",
        "arrived",
        "language",
        "english",
        "the",
        "of",
        "for",
        "near",
        "me",
        "my",
        "to",
        "in",
        "a",
        "an",
        "is",
        "are",
        "children",
        "need",
        "looking",
        "free",
        "how",
        "what",
        "there",
        "any",
        "and",
        "with",
        "study",
        "bye",
        "please",
        "weekend",
        "evening",
        "show",
        "find",
        "nearby",
        "do",
        "you",
    },
}
_CYRILLIC_MARKERS = {
    "uk": {
        "привіт",
        "хочу",
        "вивчати",
        "де",
        "можу",
        "дякую",
        "допомога",
        "бібліотека",
        "я",
        "новий",
        "нова",
        "мова",
        "мову",
        "українська",
        "курси",
        "курс",
        "навчатися",
        "діти",
        "потрібно",
        "шукаю",
        "безкоштовно",
        "як",
        "що",
        "є",
        "біля",
        "мене",
        "та",
        "і",
    },
    "ru": {
        "привет",
        "хочу",
        "изучать",
        "где",
        "могу",
        "спасибо",
        "помощь",
        "библиотека",
        "я",
        "новый",
        "новая",
        "язык",
        "русский",
        "курсы",
        "курс",
        "учиться",
        "дети",
        "нужно",
        "ищу",
        "бесплатно",
        "как",
        "что",
        "есть",
        "рядом",
        "меня",
        "и",
        "здравствуйте",
    },
}


def detect_language(text: str, hint: str | None = None) -> str | None:
    """Return the language code of `text`, or `None` when the text gives no signal.

    `hint` (a client's language) breaks ties between languages that share a script.
    """
    if not text or not text.strip() or text.lstrip().startswith("/"):
        return None
    if _HAN.search(text):
        return "zh"
    if _ARABIC.search(text):
        return "ar"
    if _CYRILLIC.search(text):
        return _cyrillic_language(text, hint)
    return _latin_language(text, hint)


def normalise_language(code: str | None) -> str | None:
    """Map a client's language tag (`zh-Hans`, `en_GB`, `UK`) to a supported code, if any."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower())[0]
    return base if base in SUPPORTED_LANGUAGES else None


def _cyrillic_language(text: str, hint: str | None) -> str:
    if _UKRAINIAN_LETTERS.search(text):
        return "uk"
    if _RUSSIAN_LETTERS.search(text):
        return "ru"
    words = set(re.findall(r"[\u0400-\u04ff']+", text.lower()))
    uk_score = len(words & _CYRILLIC_MARKERS["uk"])
    ru_score = len(words & _CYRILLIC_MARKERS["ru"])
    if uk_score == ru_score and normalise_language(hint) in ("uk", "ru"):
        return normalise_language(hint) or "ru"
    return "uk" if uk_score > ru_score else "ru"


def _latin_language(text: str, hint: str | None) -> str | None:
    words = [word.lower() for word in _LATIN_WORD.findall(text)]
    if not words:
        return None
    scores = {
        lang: sum(word in markers for word in words) for lang, markers in _LATIN_MARKERS.items()
    }
    if re.search(r"[ñ¿¡]", text):
        scores["es"] += 2
    if re.search(r"[çœèêàù]", text, re.IGNORECASE):
        scores["fr"] += 2
    best = max(scores.values())
    if best == 0:
        hinted = normalise_language(hint)
        return hinted if hinted in ("en", "es", "fr") else "en"
    leaders = [lang for lang, score in scores.items() if score == best]
    hinted = normalise_language(hint)
    if hinted in leaders:
        return hinted
    return "en" if "en" in leaders else leaders[0]
