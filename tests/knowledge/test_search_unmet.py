"""`matched` and unmet demand measured on labelled answerable and unanswerable questions in
the seven languages (tests/knowledge/unmet_queries.yml), as the chat asks them (the
citizen's language detected from the words)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from knowledge.search import is_unmet
from nlu.language import detect_language

QUERIES = Path(__file__).with_name("unmet_queries.yml")


@dataclass(frozen=True)
class _Labelled:
    query: str
    relevant: frozenset[str]


def _labelled() -> list[_Labelled]:
    data = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    base = data["base"]
    return [
        _Labelled(
            entry["query"],
            frozenset(i if "@" in i else base + i for i in entry["relevant"]),
        )
        for entry in data["queries"]
    ]


def measure(service) -> dict[str, float]:
    """Precision and recall of unmet demand (positive: the catalog has nothing), of "something
    relevant came back" per question, and of `matched` per result in the top five."""
    unmet_right = unmet_said = unmet_true = 0
    flagged = flagged_relevant = relevant_total = relevant_flagged = 0
    for labelled in _labelled():
        results = service.search(labelled.query, limit=5, language=detect_language(labelled.query))
        unmet = is_unmet(results)
        unmet_said += unmet
        unmet_true += not labelled.relevant
        unmet_right += unmet and not labelled.relevant
        if labelled.relevant:
            matched_ids = {r.item.id for r in results if r.matched}
            flagged += len(matched_ids)
            flagged_relevant += len(matched_ids & labelled.relevant)
            relevant_total += min(len(labelled.relevant), 5)
            relevant_flagged += len(matched_ids & labelled.relevant)
    answerable = len(_labelled()) - unmet_true
    met_right = answerable - (unmet_said - unmet_right)
    met_said = len(_labelled()) - unmet_said
    return {
        "questions": len(_labelled()),
        "unmet_precision": unmet_right / max(unmet_said, 1),
        "unmet_recall": unmet_right / max(unmet_true, 1),
        "met_precision": met_right / max(met_said, 1),
        "met_recall": met_right / max(answerable, 1),
        "matched_precision": flagged_relevant / max(flagged, 1),
        "matched_recall": relevant_flagged / max(relevant_total, 1),
    }


def test_the_labelled_set_has_both_kinds_in_the_seven_languages():
    labelled = _labelled()
    assert len(labelled) >= 40
    assert sum(1 for q in labelled if q.relevant) >= 20
    assert sum(1 for q in labelled if not q.relevant) >= 20
    languages = {detect_language(q.query) for q in labelled}
    assert {"zh", "en", "es", "fr", "ar", "ru", "uk"} <= languages


def test_unmet_demand_is_recorded_exactly_when_nothing_relevant_came_back(sample_service):
    scores = measure(sample_service)
    print("matched / unmet on tests/knowledge/unmet_queries.yml:", scores)
    assert scores["unmet_precision"] >= 0.9, scores
    assert scores["unmet_recall"] >= 0.9, scores
    assert scores["met_precision"] >= 0.9 and scores["met_recall"] >= 0.9, scores
    # Per result: items answering part of the question (a book club for "library", through
    # the glossary's "books") count as matched; 0.69 when this was written (docs/search.md).
    assert scores["matched_precision"] >= 0.65 and scores["matched_recall"] >= 0.8, scores


@pytest.mark.parametrize("question", ["scuba diving", "пчеловодство", "学开飞机"])
def test_a_question_the_catalog_cannot_answer_is_unmet(sample_service, question):
    assert is_unmet(sample_service.search(question, limit=5, language=detect_language(question)))


def test_a_word_of_every_sentence_held_by_one_item_does_not_make_it_the_answer(tmp_path):
    """In "teens after lessons end", "end" is in one branch's neighbourhood ("East End") and
    nowhere else, so by the catalog's counts alone it is the question's most informative word;
    a word of nearly every sentence names no topic, and the youth hubs meant come first."""
    from knowledge.documents import CatalogItem
    from knowledge.search import SearchService

    def branch(code: str, description: str) -> CatalogItem:
        return CatalogItem(id=code, type="space", name=f"{code} branch", description=description)

    youth = "Youth Hub: a free after-school drop-in space for teens, with snacks and homework help."
    items = [
        branch("main", "Neighbourhood library in the East End neighbourhood. 9 public computers."),
        *(
            branch(f"hub{n}", f"District library. {youth} {n + 20} public computers.")
            for n in range(4)
        ),
        branch(
            "maker", "District library. Digital Innovation Hub: 3D printers and design software."
        ),
    ]
    service = SearchService(tmp_path / "index")
    service.ensure_index(items)
    question = "teens after lessons end"
    found = [result.item.id for result in service.search(question, limit=4, language="en")]
    assert sorted(found) == [f"hub{n}" for n in range(4)], found
