"""Messages with no words (emoji, punctuation, zero-width characters) parse without an error.

The gateway answers such messages itself, but `/model/parse` is Rasa's public API and other
callers (the CLI's `learncity parse`, an operator's probe) send whatever they are given: DIET
used to raise on a message the tokenizer found no token in, and the server answered 500.
"""

from __future__ import annotations

import pytest

from nlu.serving import parse_text

SYMBOL_ONLY = ["👍🎉", "🙂", ":)", "!!!", "\u200b\u200b", "？？", "🇺🇦"]


@pytest.mark.parametrize("text", SYMBOL_ONLY)
def test_symbol_only_text_gets_an_intent_from_the_real_rasa_server(assistant, text: str) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_text(assistant.rasa_url, text, token=assistant.rasa_token)
    assert parsed["text"] == text
    assert parsed["intent"]["name"], parsed
    assert 0.0 <= parsed["intent"]["confidence"] <= 1.0


def test_words_around_symbols_are_still_the_only_tokens(assistant) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_text(
        assistant.rasa_url, "👍 where can I learn pottery?", token=assistant.rasa_token
    )
    assert parsed["intent"]["name"] == "search_course"
