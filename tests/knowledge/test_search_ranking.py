"""Search ranking and `matched` with the real embedding model: exact names and addresses first,
typos, a word every item holds, dense-only hits, languages of teaching, nearest first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.documents import CatalogItem
from knowledge.search import SearchService, is_unmet
from knowledge.search.fields import index_text
from knowledge.search.glossary import get_glossary
from knowledge.search.index import SAME_PLACE_M, HybridIndex
from knowledge.search.lexical import LexicalIndex
from tests.knowledge.library_branches import (
    ALBION_ID,
    ALBION_STREET_NEIGHBOUR_ID,
    library_branches,
)
from tests.knowledge.search_support import item_id


@pytest.fixture(scope="module")
def library_service(tmp_path_factory: pytest.TempPathFactory) -> SearchService:
    service = SearchService(tmp_path_factory.mktemp("library-index"))
    service.build(library_branches())
    return service


def _ids(results) -> list[str]:
    return [result.item.id for result in results]


@pytest.mark.parametrize(
    "question",
    [
        "Albion library",
        "Albion Branch Library",
        "library at 1515 Albion Road",
        "1515 Albion Rd",
        "where is the Albion library?",
        "библиотека Albion",
        "Albon library",  # a typo in the name
        "1515 Albion",
    ],
)
def test_exact_and_near_exact_name_or_address_ranks_the_branch_first(library_service, question):
    results = library_service.search(question, limit=5)
    assert _ids(results)[0] == ALBION_ID
    assert results[0].matched
    # The other branches hold "library" too, which says nothing: only those whose address
    # shares a word with the question or the name it means (Albion Street, another Road).
    words = {word.strip("?").lower() for word in question.split()} - {"library"} | {"albion"}
    others = [r.item.address for r in results[1:] if r.matched]
    assert all(words & set(address.lower().split()) for address in others), others


def test_a_branch_on_a_street_of_the_same_name_comes_after_the_named_branch(library_service):
    found = _ids(library_service.search("Albion", limit=5))
    assert found[0] == ALBION_ID
    assert ALBION_STREET_NEIGHBOUR_ID in found[1:]


def test_every_branch_is_first_for_its_own_name(library_service):
    branches = library_branches()
    wrong = [
        branch.name
        for branch in branches
        if _ids(library_service.search(branch.name, limit=1)) != [branch.id]
    ]
    assert wrong == []


def test_a_word_every_item_holds_marks_nothing_as_matched(library_service):
    # "library" is in all 100 names: on its own it says nothing about which branch is wanted.
    for question in ("scuba diving at the library", "library skiing lessons"):
        results = library_service.search(question, limit=5)
        assert is_unmet(results), [r.item.name for r in results if r.matched]
    albion = library_service.search("Albion library", limit=10)
    assert [r.item.id for r in albion if r.matched and r.item.name == "Albion"] == [ALBION_ID]
    assert all("Albion" in r.item.address or "Albion" in r.item.name for r in albion if r.matched)


def test_an_informative_word_among_branches_matches_the_branches_that_have_it(library_service):
    results = library_service.search("library with a 3D printer", limit=30)
    matched = [r for r in results if r.matched]
    assert len(matched) == 20  # every fifth branch has the makerspace
    assert all("3D printers" in r.item.description for r in matched)


LIBRARIES = ("spaces/library-central", "spaces/xicheng-library", "spaces/xingang-library")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("pottry", ("courses/pottery-beginners",)),
        ("libary", LIBRARIES),
        ("Pyhton", ("courses/python-beginners",)),
        ("calligrapy class", ("courses/calligraphy",)),
        ("библиотка", LIBRARIES),  # Russian, through the glossary's words
        ("陶意课", ("courses/pottery-beginners",)),  # 陶艺, one character off
        ("摄景课", ("courses/photography-smartphone",)),  # 摄影
    ],
)
def test_a_typo_finds_the_items_of_the_word_meant(sample_service, question, expected):
    results = sample_service.search(question, limit=5)
    assert {item_id(short) for short in expected} & set(_ids(results)), _ids(results)
    assert not is_unmet(results)


@pytest.mark.parametrize("question", ["scuba diving", "潜水课", "养蜂"])
def test_a_common_word_the_catalog_lacks_is_not_read_as_a_typo(sample_service, question):
    # "diving" is one letter from "driving" (Driving Theory in English) but a real word;
    # jieba's dictionary knows 潜水 and 养蜂.
    results = sample_service.search(question, limit=5)
    assert is_unmet(results), [r.item.name for r in results if r.matched]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("shaping clay pots", "courses/pottery-beginners"),
        ("strumming chords", "courses/guitar-beginners"),
    ],
)
def test_a_dense_only_question_finds_the_course_and_matches_nothing_else(
    sample_service, question, expected
):
    lexical = sample_service.search(question, limit=5, mode="lexical")
    assert is_unmet(lexical)  # no word in common: only the embedding can find it
    results = sample_service.search(question, limit=5)
    assert item_id(expected) in [r.item.id for r in results][:3]
    # all-MiniLM-L6-v2 stands the course 3.5 sigmas above the catalog and marks it matched;
    # multilingual-e5-small's similarities do not separate it from unanswerable questions
    # ("archery" stands as high: docs/search.md), so it is found but not claimed relevant.
    assert {r.item.id for r in results if r.matched} <= {item_id(expected)}


def test_unrelated_questions_are_not_matched_by_dense_similarity_alone(sample_service):
    for question in ("keeping bees on a rooftop", "how to swim", "quantum computing lectures"):
        results = sample_service.search(question, limit=5)
        assert is_unmet(results), (question, [r.item.name for r in results if r.matched])


ENGLISH_COURSES = {
    item_id(short)
    for short in (
        "courses/english-conversation",
        "courses/english-conversation-weekend",
        "courses/english-for-work",
        "courses/kids-english-stories",
        "courses/english-book-club",
    )
}


@pytest.mark.parametrize("question", ["English", "English course", "英语课", "学英语", "inglés"])
def test_courses_taught_in_english_are_not_english_courses(sample_service, question):
    # Mandarin "taught in Mandarin with English support", Tai Chi "taught in English and
    # Chinese" and "Driving Theory in English" were shown among English courses, and "更多"
    # (the next page of matched results) brought them back.
    results = sample_service.search(question, limit=20, language="en")
    matched = {r.item.id for r in results if r.matched}
    assert matched, question
    assert matched <= ENGLISH_COURSES, sorted(matched - ENGLISH_COURSES)


def test_near_a_point_matched_results_come_nearest_first_with_distances(sample_service):
    results = sample_service.search("pottery", limit=5, near=(31.23, 121.47))
    matched = [r for r in results if r.matched]
    assert len(matched) >= 2
    distances = [r.distance_m for r in matched]
    assert all(distance is not None for distance in distances)
    assert distances == sorted(distances)
    assert {r.item.id for r in matched} >= {
        item_id("courses/pottery-beginners"),
        item_id("courses/pottery-weekday-evening"),
    }


def test_near_a_point_the_nearest_branch_comes_first_even_if_another_matches_better(
    library_service,
):
    branches = library_branches()
    makerspaces = [b for b in branches if "3D printers" in b.description]
    here = (makerspaces[3].latitude + 0.001, makerspaces[3].longitude)
    results = library_service.search("3D printer", limit=5, near=here)
    assert results[0].item.id == makerspaces[3].id
    # Nearest first; branches within SAME_PLACE_M of each other are one place (best match first).
    places = [round(r.distance_m / SAME_PLACE_M) for r in results]
    assert places == sorted(places)


def _reimported(items, round_number: int):
    return [
        replace(item, description=f"{item.description} (update {round_number})") for item in items
    ]


def test_the_same_catalog_ranks_the_same_whatever_its_import_history(tmp_path: Path):
    """Three re-imports that change every item (the last one back to the catalog as it is)
    leave old versions behind in the index; they must not count anywhere."""
    catalog = library_branches()
    once = SearchService(tmp_path / "once")
    once.build(catalog)
    assert once._index is not None
    vectors = once._index.dense.vectors().copy()  # the same vectors for both: only history differs
    hashes = [once._index.hashes[item.id] for item in catalog]
    concepts = [get_glossary().concepts_in(index_text(item)) for item in catalog]
    index = HybridIndex(once.embedder.dimension)
    for round_number in (1, 2, 3):
        index.add(_reimported(catalog, round_number), vectors, hashes, concepts)
    index.add(catalog, vectors, hashes, concepts)
    assert index.retired == 3 * len(catalog) and len(index) == len(catalog)
    glossary = get_glossary()
    for question in QUESTIONS:
        expected = once._index.query(
            question, once.embedder.encode_query, glossary.expand(question), limit=10
        )
        found = index.query(
            question, once.embedder.encode_query, glossary.expand(question), limit=10
        )
        assert _ids(found) == _ids(expected), question
        assert [r.score for r in found] == pytest.approx([r.score for r in expected], abs=1e-6)
        assert [r.matched for r in found] == [r.matched for r in expected], question


def test_document_frequencies_count_live_documents_only():
    lexical = LexicalIndex()
    documents = [["library", f"branch{number}"] for number in range(100)]
    lexical.add(0, documents)
    for slot in range(100):  # a re-import of every document
        lexical.forget(slot)
    lexical.add(100, documents)
    assert lexical.document_frequency("library") == 100
    assert not lexical.informative("library") and lexical.informative("branch7")
    slots, scores = lexical.search({"library": 1.0, "branch7": 1.0}, 5)
    assert slots[0] == 107 and (scores > 0).all() and set(slots.tolist()) <= set(range(100, 200))


def test_a_re_imported_small_catalog_is_cleaned_up_at_its_next_sync(tmp_path: Path):
    catalog = library_branches()[:40]
    service = SearchService(tmp_path / "index")
    service.ensure_index(catalog)
    summary = service.ensure_index(_reimported(catalog, 1))
    assert summary.updated == 40 and summary.reindexed
    assert service._index is not None and service._index.retired == 0


QUESTIONS = ("library", "Albion library", "library with a 3D printer", "Kingbrook", "pottry")


def _course(item_id: str, name: str, latitude: float, longitude: float) -> CatalogItem:
    return CatalogItem(
        id=item_id,
        type="course",
        name=name,
        description="Beginners welcome.",
        latitude=latitude,
        longitude=longitude,
    )


def test_near_a_point_ties_in_distance_go_to_the_better_match(tmp_path: Path):
    service = SearchService(tmp_path / "index")
    service.build(
        [
            _course("far-exact", "Pottery wheel throwing", 31.30, 121.47),
            _course(
                "hall-weak", "Evening crafts: pottery on the wheel, paper and paint", 31.231, 121.47
            ),
            _course("hall-exact", "Pottery wheel throwing for adults", 31.231, 121.47),
            _course("other", "Chess club", 31.2305, 121.47),
            *(
                _course(f"more-{n}", name, 31.25, 121.49)
                for n, name in enumerate(("Choir", "Knitting circle", "First aid", "Yoga"))
            ),
        ]
    )
    results = service.search("pottery wheel throwing", limit=5, near=(31.23, 121.47))
    assert [r.item.id for r in results] == ["hall-exact", "hall-weak", "far-exact"]
    assert results[0].distance_m == results[1].distance_m < results[2].distance_m
