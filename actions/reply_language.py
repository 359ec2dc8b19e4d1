"""Which language to answer in: the citizen's choice, else what they wrote, else their client's.

A chosen language (set_language, or remembered from an earlier conversation) sticks: one
message in another language ("ok", a place name, a quoted English title) does not move the
conversation. Two messages in a row that are clearly in the same other language (see
`LanguageReading.clear`: two words or more and a sure reading) do, and the caller remembers
the new language as the choice.

The action server sees only the current turn's events (nlu/action_calls.py), so the clear
language of the citizen's previous message travels in the `detected_language` slot: with a
choice, that slot holds the clear language of the last message (or nothing); without one, the
language the conversation is in.
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
    earlier_language: str | None = None,
) -> str:
    """Chosen language > language of this message > earlier message > client hint.

    `earlier_language` is the clear language of the citizen's message before this one: a
    chosen language gives way when this message clearly reads as that same other language.
    An answer ("ok", "Nanhu", "так") of three words or fewer, or not clearly in another
    language, keeps the language the conversation was already in, unless it is in another
    script than Latin that the conversation was not in ("да" in a Spanish conversation is
    Russian).
    """
    reading = read_language(text or "", hint)
    chosen = normalise_language(chosen)
    if chosen:
        switch = reading.clear and reading.language not in (None, chosen)
        if switch and reading.language == normalise_language(earlier_language):
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


def language_to_remember(
    *, chosen: str | None, language: str, text: str | None, hint: str | None, choosing: bool
) -> str | None:
    """What the `detected_language` slot keeps after this message (see the module docstring).

    `choosing` (the citizen is setting a language now) forgets what they wrote before, so
    only messages after a choice can undo it.
    """
    if choosing:
        return None
    if normalise_language(chosen):
        reading = read_language(text or "", hint)
        return reading.language if reading.clear else None
    return language


def decided_this_turn(events: Iterable[Mapping[str, Any]], slots: Iterable[str]) -> bool:
    """Whether an earlier action of this turn already set one of the language `slots`.

    Then the slot holds this message's reading, not the previous message's.
    """
    names = set(slots)
    return any(event.get("event") == "slot" and event.get("name") in names for event in events)
