"""The detector reads the seven languages on short and long text, and Portuguese as unknown."""

from __future__ import annotations

import pytest

from nlu.language import SUPPORTED_LANGUAGES, detect_language, normalise_language, read_language
from nlu.language_eval import evaluate, read_tatoeba_sample


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我想学Python", "zh"),
        ("周末有免费的英语课吗", "zh"),
        ("where can I learn pottery?", "en"),
        ("hola, busco clases de español cerca de mí", "es"),
        ("Acabo de llegar a la ciudad y no hablo chino", "es"),  # was read as French
        ("bonjour, je cherche un cours de français", "fr"),
        ("moins cher ?", "fr"),  # was read as English
        ("أين يمكنني تعلم اللغة الصينية؟", "ar"),
        ("привет, где можно учиться?", "ru"),
        ("привіт, де можна вивчати мову?", "uk"),
        ("де можна вчитися", "uk"),  # no letter only Ukrainian has
        ("где можно учиться", "ru"),
    ],
)
def test_detects_the_language_of_a_message(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_portuguese_is_unknown_so_the_conversation_keeps_its_language() -> None:
    assert detect_language("Obrigado, tudo bem? Onde posso aprender a nadar?") is None


def test_one_word_guesses_carry_no_language() -> None:
    # Lingua alone reads "hello" as Spanish (0.47) and "bye" as French (0.45)
    assert [detect_language(word) for word in ("hello", "hello 4", "bye", "yes")] == [None] * 4
    assert [detect_language(word) for word in ("bonjour", "gracias", "thanks")] == [
        "fr",
        "es",
        "en",
    ]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("privet", "ru"),
        ("Privet, kak dela?", "ru"),
        ("pryvit, yak spravy", "uk"),
        ("marhaba", "ar"),
        ("salam alaikum!", "ar"),
        ("shukran", "ar"),
        ("ni hao", "zh"),
        ("nihao", "zh"),
    ],
)
def test_romanised_greetings_read_as_their_language(text: str, language: str) -> None:
    # Lingua alone reads these as English, French or nothing
    assert detect_language(text) == language


def test_romanised_words_need_a_marker_and_a_whole_message_of_them() -> None:
    # "den", "wa" and "ni" are English, Arabic or Spanish-looking fragments, not greetings
    assert [detect_language(word) for word in ("den", "ni")] == [None, None]
    assert detect_language("wa hello") != "ar"
    assert detect_language("privet, I would like a pottery course please") == "en"
    assert not read_language("privet").clear  # one word: the conversation's language still wins


def test_payloads_and_empty_text_carry_no_language() -> None:
    assert detect_language('/share_location{"latitude": 1, "longitude": 2}') is None
    assert detect_language("   ") is None
    assert detect_language("12:30 !!") is None


def test_client_hint_breaks_ties_within_a_script() -> None:
    assert detect_language("Python", hint="fr") == "fr"
    assert detect_language("да", hint="uk") == "uk"
    # a hint does not overrule a clear reading
    assert detect_language("where can I learn pottery?", hint="fr") == "en"
    assert normalise_language("zh-Hans") == "zh"
    assert normalise_language("en_GB") == "en"
    assert normalise_language("de") is None


def test_a_clear_reading_needs_words_and_confidence() -> None:
    assert read_language("Je voudrais apprendre la poterie le samedi").clear
    assert not read_language("ok").clear
    assert not read_language("да").clear


def test_held_out_tatoeba_sentences_meet_the_targets() -> None:
    """Issue 10 targets: >= 0.97 on 5+ words and >= 0.90 on 1-4 words, every language."""
    result = evaluate(read_tatoeba_sample("heldout"))
    accuracy = {
        key: round(result["correct"][key] / count, 3)
        for key, count in result["total"].items()
        if key[0] in SUPPORTED_LANGUAGES
    }
    below = {
        key: value
        for key, value in accuracy.items()
        if value < (0.97 if key[1] == "long" else 0.90)
    }
    assert below == {}, accuracy
    assert len(accuracy) == 14  # 7 languages x 2 lengths


def test_held_out_portuguese_is_seldom_answered_in_english_or_french() -> None:
    """Portuguese is not served: unknown (keep the conversation's language) or Spanish is fine."""
    readings = evaluate(read_tatoeba_sample("heldout"))["confusion"]["pt"]
    astray = (readings["en"] + readings["fr"]) / sum(readings.values())
    assert astray <= 0.10, dict(readings)
