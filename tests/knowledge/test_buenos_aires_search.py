"""Search on a second real catalog, in Spanish: the 58 Buenos Aires city libraries.

The whole file as the city publishes it (tests/knowledge/data/buenos_aires/
bibliotecas_completo.csv, CC BY 2.5 AR) goes through the project's importer with its column
map into a SQLite file; the index is built from what the database gives back with the
configured embedding model, and the labelled questions of
tests/knowledge/buenos_aires_queries.yml (seven languages, written before searching) are asked
as the chat asks them (with their language), through the public search service.

The floors are REGRESSION FLOORS, set under what was measured on 2026-12-02 with the default
model (multilingual-e5-small-q4; `python -m bench.buenos_aires`, table in docs/search.md,
section "A second real catalog, in Spanish"): a change that makes search worse on it breaks them.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.buenos_aires import CATALOG, COLUMN_MAP, labelled_queries, measure
from tests.knowledge.search_support import import_with_column_map

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PUBLISHED_SHA256 = "12390fb68020e036c2e1f21fe2b12693d35fc3a95cec06c6b53909d01b6e86b6"
SEVEN_LANGUAGES = {"zh", "en", "es", "fr", "ar", "ru", "uk"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The whole file imported with its column map into a fresh SQLite file."""
    folder = tmp_path_factory.mktemp("buenos-aires-search")
    (summary,), items = import_with_column_map(folder, CATALOG, COLUMN_MAP)
    yield {"summary": summary, "items": items, "folder": folder}


@pytest.fixture(scope="module")
def service(imported: dict[str, Any]) -> Any:
    """The search service over an index of the stored items."""
    from knowledge.search import SearchService

    built = SearchService(Path(imported["folder"]) / "index")
    built.build(imported["items"])
    return built


@pytest.fixture(scope="module")
def measured(service: Any) -> dict[str, dict[str, Any]]:
    """Every labelled question asked in each mode."""
    return measure(service, labelled_queries())


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("Núñez", "Biblioteca Popular Universidad Popular de Belgrano Alfredo Fazio"),
        ("Nunez", "Biblioteca Popular Universidad Popular de Belgrano Alfredo Fazio"),
        ("Guiraldes", "Biblioteca Pública Ricardo Güiraldes"),
        ("Estación", "Biblioteca Pública Parque de la Estación"),
        ("Estacion", "Biblioteca Pública Parque de la Estación"),
    ],
)
def test_a_word_with_its_accents_added_or_dropped_finds_the_same_library(
    service: Any, question: str, name: str
) -> None:
    """The file writes "Nuñez" and "Güiraldes"; citizens write Núñez, Nunez, Guiraldes."""
    [first] = service.search(question, limit=1, mode="lexical", language="es")
    assert (first.item.name, first.matched) == (name, True)


def test_the_whole_published_file_is_shipped_and_imports_every_library(
    imported: dict[str, Any],
) -> None:
    assert hashlib.sha256(CATALOG.read_bytes()).hexdigest() == PUBLISHED_SHA256
    summary, items = imported["summary"], imported["items"]
    assert (summary.added, summary.rejected_rows, len(items)) == (58, 0, 58)
    liniers = next(i for i in items if i.name == "Biblioteca Popular Casa de la Cultura de Liniers")
    # its `web` holds an e-mail (columns shifted as published): kept in extra, not a url
    assert (liniers.url, liniers.extra["web"]) == ("", "casadelaculturadeliniers@hotmail.com")
    assert {item.languages for item in items} == {("es",)}


def test_labelled_questions_cover_seven_languages_kinds_and_both_splits(
    imported: dict[str, Any],
) -> None:
    queries = labelled_queries()
    ids = {item.id for item in imported["items"]}
    answerable = [q for q in queries if q.answerable]
    assert {i for q in queries for i in q.relevant} <= ids
    assert len(answerable) >= 100 and len(queries) - len(answerable) >= 20
    assert {q.language for q in queries} == SEVEN_LANGUAGES
    assert {q.split for q in queries} == {"validation", "test"}
    assert set(Counter(q.kind for q in queries)) == {
        "exact",
        "paraphrase",
        "typo",
        "name",
        "place",
        "other-language",
        "unanswerable",
    }


def test_names_places_and_every_language_stay_above_their_floors(
    measured: dict[str, dict[str, Any]],
) -> None:
    sets = measured["hybrid"]["sets"]
    # Measured 2026-12-02 (e5, hybrid): names 1.000 (22 in other scripts and languages),
    # places 1.000, typos 0.917, hit@5 zh 0.846 / en 0.938 / es 0.941 / fr 0.923 / ar 0.917 /
    # ru 0.933 / uk 1.000.
    floors = {
        "kind:name": 1.0,
        "kind:name in another language": 1.0,
        "kind:place": 0.95,
        "kind:typo": 0.85,
        **{f"language:{code}": 0.8 for code in sorted(SEVEN_LANGUAGES - {"zh"})},
        "language:zh": 0.75,
    }
    seen = {name: sets[name]["hit@5"] for name in floors}
    assert {name: seen[name] >= floor for name, floor in floors.items()} == dict.fromkeys(
        floors, True
    ), seen


def test_overall_and_other_languages_stay_above_their_floors_and_hybrid_wins(
    measured: dict[str, dict[str, Any]],
) -> None:
    # Measured 2026-12-02 (e5): recall@5 all 0.863 (dense 0.735, lexical 0.631); other
    # languages than Spanish 0.837; hit@5 all 0.931. With the 30 paraphrases added at 17:55
    # (the hardest kind: paraphrase recall@5 0.453) all 0.778 (dense 0.706, lexical 0.524),
    # other languages 0.755, hit@5 all 0.870.
    sets = {mode: measured[mode]["sets"] for mode in measured}
    seen = {
        "all recall@5": sets["hybrid"]["all"]["recall@5"],
        "all hit@5": sets["hybrid"]["all"]["hit@5"],
        "other-language recall@5": sets["hybrid"]["other-language-than-catalog"]["recall@5"],
    }
    floors = {"all recall@5": 0.75, "all hit@5": 0.85, "other-language recall@5": 0.72}
    assert {name: seen[name] >= floors[name] for name in floors} == dict.fromkeys(floors, True), (
        seen
    )
    recall = {mode: sets[mode]["all"]["recall@5"] for mode in sets}
    assert recall["hybrid"] > max(recall["dense"], recall["lexical"]), recall


def test_questions_the_file_cannot_answer_are_reported_as_unmet(
    measured: dict[str, dict[str, Any]],
) -> None:
    unmet = measured["hybrid"]["unmet"]
    # Measured 2026-12-02 (e5, hybrid): precision 0.80, recall 0.90 (21 unanswerable,
    # 116 answerable); with a name asked for held by no item unmet (asked_names.py) 0.80 /
    # 0.95 on those, 0.65 / 0.85 with the 42 questions added at 17:55 (33 unanswerable, 146
    # answerable: paraphrases called unmet, barrios named in Cyrillic, Arabic and Chinese
    # still matched).
    assert (unmet["recall"] >= 0.8, unmet["precision"] >= 0.6) == (True, True), unmet
