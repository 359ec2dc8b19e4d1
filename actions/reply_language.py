"""Which language to answer in: the citizen's choice, else what they wrote, else their client's.

A chosen language (set_language, or remembered from an earlier conversation) sticks: one
message in another language ("ok", a place name, a quoted English title) does not move the
conversation. Two messages in a row that are clearly in the same other language (see
`LanguageReading.clear`: two words or more and a sure reading) do, and the caller remembers
the new language as the choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nlu.language import DEFAULT_LANGUAGE, normalise_language, read_language

_SHORT_ANSWER_WORDS = 3
_SCRIPTS = {"en": "latin", "es": "latin", "fr": "latin", "ru": "cyrillic", "uk": "cyrillic"}


def choose_reply_language(
    *,
    chosen: str | None,
    text: str | None,
    previous: str | None,
    hint: str | None,
    is_answer: bool = True,
    earlier_text: str | None = None,
) -> str:
    """Chosen language > language of this message > earlier message > client hint.

    `earlier_text` is the citizen's message before this one: with it, a chosen language gives
    way when both messages clearly read as the same other language. An answer ("ok",
    "Nanhu", "так") of three words or fewer, or not clearly in another language, keeps the
    language the conversation was already in, unless it is in another script than Latin
    that the conversation was not in ("да" in a Spanish conversation is Russian).
    """
    reading = read_language(text or "", hint)
    chosen = normalise_language(chosen)
    if chosen:
        if reading.clear and reading.language != chosen and earlier_text:
            earlier = read_language(earlier_text, hint)
            if earlier.clear and earlier.language == reading.language:
                return reading.language or chosen
        return chosen
    detected = reading.language
    previous = normalise_language(previous)
    says_little = is_answer and (not reading.clear or reading.words <= _SHORT_ANSWER_WORDS)
    # Han, Arabic and Cyrillic name their languages outright; a Latin "ok" says little.
    if detected and previous and says_little and _script(detected) in ("latin", _script(previous)):
        return previous
    return detected or previous or normalise_language(hint) or DEFAULT_LANGUAGE


def _script(language: str) -> str:
    return _SCRIPTS.get(language, language)


def earlier_citizen_text(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The text of the citizen's message before the latest one in a tracker's events."""
    texts = [event.get("text") for event in events if event.get("event") == "user"]
    return texts[-2] if len(texts) >= 2 and isinstance(texts[-2], str) else None
