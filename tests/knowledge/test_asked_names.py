"""A question restricted to a name (a barrio, a street, a library) is answered only by items
holding the whole name (knowledge/search/asked_names.py), with the real embedding model."""

from __future__ import annotations

import pytest

from knowledge.documents import CatalogItem
from knowledge.search import SearchService, is_unmet
from knowledge.search.asked_names import asked_names


def _library(code: str, name: str, address: str, district: str) -> CatalogItem:
    return CatalogItem(
        id=code,
        type="space",
        name=f"Biblioteca Pública {name}",
        address=address,
        district=district,
        languages=("es",),
    )


@pytest.fixture(scope="module")
def libraries(tmp_path_factory) -> SearchService:
    items = [
        _library("lugano", "Rosa Chacel", "Murguiondo 4100", "Villa Lugano"),
        _library("crespo", "Silvina Bullrich", "Lavalleja 900", "Villa Crespo"),
        _library("nicolas", "Manuel Mujica", "Cordoba Av. 1500", "San Nicolas"),
        _library("flores", "Ezequiel Martinez", "Rivadavia 7000", "Flores"),
        _library("boedo", "Olga Orozco", "Boedo 800", "Boedo"),
    ]
    service = SearchService(tmp_path_factory.mktemp("names") / "index")
    service.ensure_index(items)
    return service


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("biblioteca en Villa Lugano", "es", "lugano"),
        ("library in Villa Crespo", "en", "crespo"),
        ("bibliothèque Olga Orozco", "fr", "boedo"),
        ("biblioteca en Villa Lugno", "es", "lugano"),  # a typo of the name still holds it
        ("библиотека в Флорес", "ru", "flores"),  # romanized as the file writes it
        ("бібліотека Мухіка", "uk", "nicolas"),  # spelt as it sounds: Mujica
    ],
)
def test_a_name_the_catalog_holds_is_matched(libraries, question, language, expected):
    results = libraries.search(question, limit=3, language=language)
    assert results and results[0].matched, question
    assert results[0].item.id == expected


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("biblioteca en Villa Urquiza", "es"),  # "Villa" is held, "Urquiza" by nobody
        ("biblioteca en San Cristóbal", "es"),  # "San" is held (San Nicolas), not the name
        ("library in Almagro", "en"),  # asked in another language than the catalog's
        ("bibliothèque à Parque Chas", "fr"),
        ("библиотека в Матадерос", "ru"),  # in Cyrillic, held by none
    ],
)
def test_a_name_no_item_holds_is_unmet(libraries, question, language):
    assert is_unmet(libraries.search(question, limit=5, language=language)), question


def test_a_name_in_another_script_meets_the_latin_name_it_sounds_like():
    from knowledge.search.romanize import romanized, sound_key

    assert sound_key(romanized("Эрнандес")) == sound_key("hernandez") == "ernandes"
    assert sound_key(romanized("Кабальито")) == sound_key("caballito")
    assert sound_key(romanized("Реколеті")) == sound_key("recoleta")  # a case ending
    assert sound_key("jose") == ""  # too short to tell names apart


def test_capitalized_everyday_words_name_nothing():
    assert asked_names("English classes on Saturday", "en", {}) == []
    assert asked_names("Public library in Palermo", "en", {}) == [[["palermo"]]]
    assert asked_names("Biblioteca Popular Eurindia", "es", {}) == [[["eurindia"]]]
    assert asked_names("library in Villa Ortúzar", "en", {}) == [[["villa"], ["ortuzar"]]]
    assert asked_names("Albion图书馆", "zh", {}) == [[["albion"]]]
