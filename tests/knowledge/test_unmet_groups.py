"""Unmet demand grouped for planners: the glossary's concepts across languages and word forms,
typos, spacing and other scripts among unknown questions. Merging by meaning across languages
is the planner dashboard's (tests/admin/test_unmet_meanings.py)."""

from __future__ import annotations

import knowledge


def _rows(groups: list[knowledge.UnmetGroup]) -> list[tuple[str, int, list[str]]]:
    return [(group.label, group.count, group.languages) for group in groups]


def test_a_glossary_concept_is_one_row_across_languages_word_forms_and_a_typo() -> None:
    groups = knowledge.group_unmet_demand(
        {
            ("library", "en"): 3,
            ("libary", "en"): 1,
            ("bibliotecas", "es"): 1,
            ("مكتبة", "ar"): 2,
            ("библиотеки", "ru"): 2,
        }
    )
    assert _rows(groups) == [("library", 9, ["en", "ar", "ru", "es"])]
    assert groups[0].key == "concept:library"


def test_unknown_questions_merge_typos_and_spacing_but_not_other_topics() -> None:
    groups = knowledge.group_unmet_demand(
        {
            ("beekeeping", "en"): 4,
            ("beekeping", "en"): 1,
            ("bee keeping", "en"): 1,
            ("woodworking", "en"): 2,
            ("scuba diving", "en"): 2,
        }
    )
    assert _rows(groups) == [
        ("beekeeping", 6, ["en"]),
        ("scuba diving", 2, ["en"]),
        ("woodworking", 2, ["en"]),
    ]


def test_a_word_written_in_another_script_joins_its_romanized_spelling() -> None:
    groups = knowledge.group_unmet_demand(
        {("origami", "en"): 3, ("оригами", "ru"): 1, ("парк", "ru"): 1, ("park", "en"): 2}
    )
    # "park" is a common word, not a name: "парк" stays apart (spelling.ROMANIZED_COMMON_ZIPF)
    assert _rows(groups) == [("origami", 4, ["en", "ru"]), ("park", 2, ["en"]), ("парк", 1, ["ru"])]
