"""A place named in another script than the catalog's: romanized names (knowledge/search/romanize.py).

On the real Toronto catalog (tests/knowledge/data/real/, Open Government Licence - Toronto;
Latin-script names), Russian and Ukrainian questions name branches in Cyrillic; on the sample
city (written by us; Chinese names), Latin-script questions name places in pinyin. Both go
through the search service with the configured embedding model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.search_quality import ID_PREFIX, real_catalog_items
from knowledge.documents import CatalogItem
from knowledge.search.spelling import Speller
from tests.knowledge.search_support import item_id


@pytest.fixture(scope="module")
def toronto(tmp_path_factory: pytest.TempPathFactory):
    from knowledge.search import SearchService

    service = SearchService(Path(tmp_path_factory.mktemp("toronto")) / "index")
    service.build(real_catalog_items())
    return service


@pytest.mark.parametrize(
    ("question", "language", "branch"),
    [
        ("библиотека Мария Щука", "ru", "mas"),  # мария -> mariya ~ maria, щука -> shchuka
        ("Мария Щука", "ru", "mas"),
        ("Марія Щука", "uk", "mas"),
        ("Альбион", "ru", "ab"),  # "albion": a name (Zipf 3.4), not a common word
        ("бібліотека Альбіон", "uk", "ab"),
    ],
)
def test_a_branch_named_in_cyrillic_comes_first(
    toronto, question: str, language: str, branch: str
) -> None:
    results = toronto.search(question, language=language)
    assert results, question
    assert results[0].item.id == ID_PREFIX + branch, [r.item.name for r in results]
    assert results[0].matched


def test_a_romanized_common_word_is_no_name() -> None:
    speller = Speller(["park", "centre", "albion", "maria"])
    assert speller.corrections("парк", "ru") == []  # park: a word (Zipf 5.2), not a name
    assert speller.corrections("центр", "ru") == []
    assert speller.corrections("альбион", "ru") == ["albion"]
    assert speller.corrections("мария", "ru") == ["maria"]  # one edit from "mariya"
    assert speller.corrections("марина", "ru") == []  # "marina": two edits, too far


@pytest.mark.parametrize(
    ("question", "address"),
    [
        ("Songhelu", "松鹤路66号"),  # jieba cuts 松鹤路 as one word
        ("Gangcheng Dadao", "港城大道501号"),
    ],
)
def test_a_chinese_address_written_in_pinyin_is_found(
    sample_service, question: str, address: str
) -> None:
    results = sample_service.search(question, language="en")
    assert results and results[0].matched, question
    assert all(result.item.address.startswith(address) for result in results[:2]), [
        (result.item.name, result.item.address) for result in results
    ]


def test_a_chinese_place_name_written_in_pinyin_comes_first(sample_service) -> None:
    results = sample_service.search("Beishan Jiedao Tushushi", language="en")
    assert results and results[0].item.id == item_id("spaces/beishan-reading-room")
    assert results[0].matched


def test_only_words_in_another_script_are_romanized(sample_items: list[CatalogItem]) -> None:
    from knowledge.search.fields import name_text

    space = next(i for i in sample_items if i.id == item_id("spaces/beishan-reading-room"))
    assert "beishan jiedao tushushi" in name_text(space)
    latin = CatalogItem(id="x", type="space", name="Montréal Albion", address="1 Main Street")
    assert name_text(latin) == "Montréal Albion \n1 Main Street"
