"""The reply language follows the script and common words of what a citizen wrote."""

from __future__ import annotations

import pytest

from nlu.language import detect_language, normalise_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我想学Python", "zh"),
        ("周末有免费的英语课吗", "zh"),
        ("where can I learn pottery?", "en"),
        ("hola, busco clases de español cerca de mí", "es"),
        ("bonjour, je cherche un cours de français", "fr"),
        ("أين يمكنني تعلم اللغة الصينية؟", "ar"),
        ("привет, где можно учиться?", "ru"),
        ("привіт, де можна вивчати мову?", "uk"),
    ],
)
def test_detects_the_language_of_a_message(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_payloads_and_empty_text_carry_no_language() -> None:
    assert detect_language('/share_location{"latitude": 1, "longitude": 2}') is None
    assert detect_language("   ") is None


def test_client_hint_breaks_ties_within_a_script() -> None:
    assert detect_language("Python", hint="fr") == "fr"
    assert normalise_language("zh-Hans") == "zh"
    assert normalise_language("en_GB") == "en"
    assert normalise_language("de") is None
