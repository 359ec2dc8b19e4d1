"""Long replies are split where platforms allow, in the units they count."""

from __future__ import annotations

from bot.text_split import split_text, utf8_length, utf16_length


def test_short_text_is_one_piece() -> None:
    assert split_text("hello", 10) == ["hello"]
    assert split_text("", 10) == []


def test_splits_between_words_and_keeps_every_word() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    pieces = split_text(text, 50)
    assert all(len(piece) <= 50 for piece in pieces)
    assert " ".join(pieces).split() == text.split()


def test_prefers_line_breaks_and_never_loses_chinese_characters() -> None:
    text = "\n".join(["周末免费英语课在南湖社区学习中心"] * 30)
    pieces = split_text(text, 100, utf8_length)
    assert all(utf8_length(piece) <= 100 for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_utf16_units_count_emoji_as_two() -> None:
    text = "📍" * 10
    assert utf16_length(text) == 20
    pieces = split_text(text, 8, utf16_length)
    assert pieces == ["📍" * 4, "📍" * 4, "📍" * 2]


def test_a_word_longer_than_the_limit_is_cut() -> None:
    pieces = split_text("a" * 25, 10)
    assert pieces == ["a" * 10, "a" * 10, "a" * 5]
