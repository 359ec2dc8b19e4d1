"""Split a long reply into pieces a platform accepts, at paragraph, line or word boundaries."""

from __future__ import annotations

from collections.abc import Callable


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Pieces of `text`, each at most `limit` long by `measure` (characters, UTF-16 units, bytes).

    Prefers to break between paragraphs, then lines, then words; only a single word longer
    than the limit is cut mid-word. Joining the pieces gives back the text up to whitespace at
    the cuts.
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    if measure(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for token in _tokens(text):
        candidate = current + token
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            pieces.append(current.rstrip())
        current = token.lstrip()
        while measure(current) > limit:
            cut = _longest_prefix(current, limit, measure)
            pieces.append(current[:cut])
            current = current[cut:]
    if current.strip():
        pieces.append(current.rstrip())
    return pieces


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts message length in."""
    return len(text.encode("utf-16-le")) // 2


def utf8_length(text: str) -> int:
    """Length in UTF-8 bytes, the unit WeChat counts customer-service text in."""
    return len(text.encode("utf-8"))


def _tokens(text: str) -> list[str]:
    """Words with their trailing whitespace, so paragraph and line breaks stay attached."""
    tokens: list[str] = []
    word = ""
    for char in text:
        if char.isspace():
            word += char
            continue
        if word and word[-1].isspace():
            tokens.append(word)
            word = ""
        word += char
        # CJK has no spaces: each character is its own breakable token.
        if "\u3000" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af":
            tokens.append(word)
            word = ""
    if word:
        tokens.append(word)
    return tokens


def _longest_prefix(text: str, limit: int, measure: Callable[[str], int]) -> int:
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low
