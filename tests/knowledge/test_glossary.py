"""The topic glossary the city edits: coverage, expansion, and errors an operator can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.search.glossary import (
    GLOSSARY_LANGUAGES,
    GLOSSARY_PATH,
    GlossaryError,
    load_glossary,
)


def test_bundled_glossary_has_forty_concepts_in_every_language():
    glossary = load_glossary(GLOSSARY_PATH)
    assert len(glossary.concepts) >= 40
    for key, by_language in glossary.concepts.items():
        assert set(by_language) == set(GLOSSARY_LANGUAGES), key


def test_english_and_chinese_words_name_the_same_concepts():
    glossary = load_glossary(GLOSSARY_PATH)
    pairs = [("pottery", "陶艺"), ("python", "编程"), ("english", "英语"), ("mandarin", "汉语"),
             ("sign language", "手语"), ("cooking", "烹饪"), ("computer", "电脑"),
             ("calligraphy", "书法"), ("first aid", "急救"), ("parenting", "亲子"), ("job", "求职"),
             ("law", "法律"), ("photography", "摄影"), ("tai chi", "太极"), ("dance", "舞蹈"),
             ("music", "音乐"), ("painting", "绘画"), ("library", "图书馆")]  # fmt: skip
    for english, chinese in pairs:
        concepts = glossary.concepts_in(english)
        assert concepts and concepts == glossary.concepts_in(chinese), (english, chinese)


def test_whole_words_only_outside_chinese():
    glossary = load_glossary(GLOSSARY_PATH)
    assert "law" not in glossary.concepts_in("lawn mowing")
    assert "pottery" in glossary.concepts_in("我想学陶艺课")
    expansion = glossary.expand("Pottery near me")
    assert "陶艺" in expansion.terms and "pottery" in expansion.english_terms


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("concepts:\n  pottery:\n    en: [pottery]\n    xx: [foo]\n", 4, "unknown language"),
        ("concepts:\n  pottery:\n    en: pottery\n", 3, "expected a list"),
        ("concepts:\n  pottery:\n    en: [pottery, '']\n", 3, "empty"),
        ("concepts:\n  pottery:\n    en: [a]\n  pottery:\n    en: [b]\n", 4, "defined twice"),
        ("topics: []\n", 1, "concepts"),
    ],
)
def test_bad_glossary_names_file_line_and_entry(tmp_path: Path, text: str, line: int, words: str):
    path = tmp_path / "glossary.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GlossaryError) as caught:
        load_glossary(path)
    message = str(caught.value)
    assert f"{path}:{line}:" in message
    assert words in message


def test_unparseable_glossary_names_the_file(tmp_path: Path):
    path = tmp_path / "glossary.yml"
    path.write_text("concepts: [unclosed\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=str(path)):
        load_glossary(path)


def test_words_of_the_questions_language_match_with_their_endings():
    glossary = load_glossary(GLOSSARY_PATH)
    assert glossary.concepts_in("¿hay bibliotecas cerca?", "es") == ("library",)
    assert glossary.concepts_in("где библиотеки?", "ru") == ("library",)
    assert glossary.concepts_in("des cours de poteries", "fr") == ("pottery",)
    assert glossary.concepts_in("ordinateurs", "fr") == ("digital_skills",)


def test_endings_are_not_tried_across_languages_or_without_one():
    glossary = load_glossary(GLOSSARY_PATH)
    # French "lecture" (reading) plus an English plural is not reading.
    assert glossary.concepts_in("quantum computing lectures", "en") == ()
    assert glossary.concepts_in("bibliotecas") == ()  # documents: as written only
    assert glossary.concepts_in("biblioteca") == ("library",)
