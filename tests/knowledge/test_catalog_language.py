"""Which languages a catalog is written in, read from its own words (a word no item holds
counts against a match only in those languages): the real Toronto catalog and the sample city."""

from __future__ import annotations

import pytest

from bench.search_catalog import sample_city_items
from bench.search_quality import real_catalog_items
from knowledge.search.catalog_language import written_in
from knowledge.search.fields import index_text
from knowledge.search.lexical import tokenize


def _vocabulary(items) -> list[str]:  # type: ignore[no-untyped-def]
    return list(dict.fromkeys(token for item in items for token in tokenize(index_text(item))))


@pytest.mark.parametrize(
    ("catalog", "expected"),
    [
        # Toronto Public Library's branch descriptions are English only.
        (
            real_catalog_items,
            {
                "en": True,
                "es": False,
                "fr": False,
                "ru": False,
                "uk": False,
                "ar": False,
                "zh": False,
            },
        ),
        # The sample city writes every item in Chinese and English.
        (
            sample_city_items,
            {
                "en": True,
                "es": False,
                "fr": False,
                "ru": False,
                "uk": False,
                "ar": False,
                "zh": True,
            },
        ),
    ],
    ids=["toronto", "sample-city"],
)
def test_a_catalog_is_written_in_the_languages_of_its_words(catalog, expected) -> None:  # type: ignore[no-untyped-def]
    vocabulary = _vocabulary(catalog())
    assert {language: written_in(vocabulary, language) for language in expected} == expected


def test_a_language_nobody_can_judge_is_taken_as_written() -> None:
    assert written_in(["library", "branch"], "de") is True
