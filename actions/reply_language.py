"""Which language to answer in: the citizen's choice, else what they wrote, else their client's."""

from __future__ import annotations

from nlu.language import DEFAULT_LANGUAGE, detect_language, normalise_language

# Scripts that name their language outright; a Latin "ok" or "Nanhu" says little.
_SCRIPT_LANGUAGES = ("zh", "ar", "ru", "uk")
_SHORT_MESSAGE_WORDS = 3


def choose_reply_language(
    *,
    chosen: str | None,
    text: str | None,
    previous: str | None,
    hint: str | None,
    is_answer: bool = True,
) -> str:
    """Chosen language (set_language) > language of this message > earlier message > client hint.

    A short Latin-script answer ("ok", "more", "Nanhu") keeps the language the conversation
    was already in, since the detector would otherwise call it English.
    """
    chosen = normalise_language(chosen)
    if chosen:
        return chosen
    detected = detect_language(text or "", hint)
    previous = normalise_language(previous)
    short = is_answer and len((text or "").split()) <= _SHORT_MESSAGE_WORDS
    if (
        detected
        and previous
        and detected != previous
        and detected not in _SCRIPT_LANGUAGES
        and short
    ):
        return previous
    return detected or previous or normalise_language(hint) or DEFAULT_LANGUAGE
