"""The reply language: chosen, else written, else earlier, else the client's, else English."""

from __future__ import annotations

import pytest

from actions.reply_language import choose_reply_language


@pytest.mark.parametrize(
    ("chosen", "text", "previous", "hint", "is_answer", "expected"),
    [
        ("fr", "我想学Python", "zh", "zh-CN", False, "fr"),  # a choice outlives what they write
        (None, "我想学Python", None, "en", False, "zh"),
        (None, "hola, quiero aprender cerámica", "en", None, False, "es"),
        (None, "ok", "es", None, True, "es"),  # a short answer keeps the conversation's language
        (None, "Nanhu", "zh", None, True, "zh"),
        (None, "forget me", "zh", None, False, "en"),  # a command in English switches
        (None, "да", "es", None, True, "ru"),  # a script names its language outright
        (None, '/search_course{"schedule": "weekend"}', "uk", "en", True, "uk"),
        (None, "/greet", None, "ar-EG", False, "ar"),
        (None, "/greet", None, None, False, "en"),
    ],
)
def test_reply_language(
    chosen: str | None,
    text: str,
    previous: str | None,
    hint: str | None,
    is_answer: bool,
    expected: str,
) -> None:
    assert (
        choose_reply_language(
            chosen=chosen, text=text, previous=previous, hint=hint, is_answer=is_answer
        )
        == expected
    )
