"""The language a citizen is known by, for the gateway's own short sentences.

The assistant picks its replies' language itself (actions/reply_language.py). The gateway's
own sentences ("try again", "too long", "I cannot read pictures", "this button expired") were
picked from the message text and the client's language alone, so a citizen who writes Russian
from a phone set to English got them in English. `KnownLanguages` keeps the language the
assistant last answered each citizen in (bounded, in memory) and falls back on the language
they chose (citizens.get_language, which survives restarts and is shared by replicas).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy.exc import SQLAlchemyError

from citizens import get_language
from core.database import session_scope
from core.replies import Reply
from nlu.language import DEFAULT_LANGUAGE, normalise_language, read_language

logger = logging.getLogger(__name__)

# The chosen language is read from the database only when memory has nothing; a database that
# does not answer quickly must not hold a "try again" back.
CHOICE_LOOKUP_SECONDS = 1.0
_SAMPLE_CHARS = 300  # enough to tell a language; never run detection on megabytes


class KnownLanguages:
    """The language each citizen was last answered in, and the one they chose."""

    def __init__(self, database_url: str | None, max_size: int = 50_000) -> None:
        self.database_url = database_url
        self.max_size = max_size
        self._answered_in: OrderedDict[str, str] = OrderedDict()

    def remember(self, sender_id: str, replies: Iterable[Reply]) -> None:
        """Keep the language of a turn's answer (the first reply that says one)."""
        language = next((normalise_language(r.language) for r in replies if r.language), None)
        if language is None:
            return
        self._answered_in[sender_id] = language
        self._answered_in.move_to_end(sender_id)
        while len(self._answered_in) > self.max_size:
            self._answered_in.popitem(last=False)

    def forget(self, sender_id: str) -> None:
        """After "forget me": nothing about the citizen stays, their language neither."""
        self._answered_in.pop(sender_id, None)

    async def known(self, sender_id: str) -> str | None:
        """The language the assistant last answered in, else the citizen's choice; None when
        neither is known (a first message, or the database did not answer)."""
        remembered = self._answered_in.get(sender_id)
        if remembered is not None or self.database_url is None:
            return remembered
        try:
            chosen = await asyncio.wait_for(
                asyncio.to_thread(self._chosen, sender_id), CHOICE_LOOKUP_SECONDS
            )
        except (SQLAlchemyError, TimeoutError) as error:
            logger.debug("chosen language unavailable: %s", type(error).__name__)
            return None
        return normalise_language(chosen)

    async def language_for(self, sender_id: str, text: str | None, hint: str | None) -> str:
        """The language of the message when it clearly reads as one, else the known language,
        else the message's weaker reading (its punctuation, for a message without words), the
        client's language (for WeChat, the city's) or English."""
        sample = (text or "")[:_SAMPLE_CHARS]
        reading = read_language(sample, normalise_language(hint))
        if reading.clear and reading.language:
            return reading.language
        known = await self.known(sender_id)
        return (
            known
            or reading.language
            or punctuation_language(sample)
            or normalise_language(hint)
            or DEFAULT_LANGUAGE
        )

    def _chosen(self, sender_id: str) -> str | None:
        with session_scope(self.database_url) as session:
            return get_language(session, sender_id)


def punctuation_language(text: str) -> str | None:
    """The language whose keyboards type this text's punctuation ("？？" is typed in Chinese,
    "¿?" in Spanish); None when the marks are shared or there are none."""
    found = {language for char in text if (language := _PUNCTUATION_LANGUAGE.get(char))}
    return found.pop() if len(found) == 1 else None


def _punctuation_by_language() -> dict[str, str]:
    # CJK symbols and punctuation, and the full-width forms of ASCII marks (U+FF01-FF0F...).
    chinese = "\u3001\u3002\u300a\u300b\u300c\u300d\u300e\u300f\u3010\u3011\uff5e"
    chinese += "".join(chr(code) for code in range(0xFF01, 0xFF20) if not chr(code).isalnum())
    marks = dict.fromkeys(chinese, "zh")
    marks |= dict.fromkeys("\u00bf\u00a1", "es")
    return marks


_PUNCTUATION_LANGUAGE = _punctuation_by_language()


def in_known_language(table: dict[str, str], language: str) -> Reply:
    """The table's sentence in `language` (the default language's when it has none)."""
    language = language if language in table else DEFAULT_LANGUAGE
    return Reply(text=table[language], language=language)
