"""Unmet demand grouped for planners: one row per thing asked for, across languages and typos.

"library", "bibliotecas", "مكتبة" and "библиотеки" are one row because the topic glossary
(knowledge/glossary.yml) names them as one concept, with the word endings it allows;
"libary" joins them because the glossary's speller corrects it. Questions the glossary does
not know are grouped by their words, a rarer spelling joining a more frequent one an edit or
two away ("beekeping" -> "beekeeping"), written apart ("bee keeping") or in another script
("оригами" -> "origami"). Questions of one meaning in different languages ("swimming
lessons", "clases de natación") are joined by the planner dashboard, with meanings it keeps
(bot/admin/unmet_meanings.py), not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.grouped_counts import citizens_gathered_by
from knowledge.search.glossary import get_glossary, normalise_text
from knowledge.search.spelling import Speller, glossary_speller

CONCEPT_PREFIX = "concept:"
WORDS_PREFIX = "words:"


@dataclass
class UnmetGroup:
    """One thing citizens asked for and did not find, with every way they asked it."""

    key: str  # "concept:library" or "words:beekeeping": stable, for drill-down links
    label: str  # the glossary's English word, else the form asked most often
    count: int = 0
    queries: dict[tuple[str, str], int] = field(default_factory=dict)  # (query, language)

    def label_in(self, language: str) -> str:
        """The label in a staff member's language: the glossary's term for each concept in
        that language (else English); a group of words keeps the form asked most often."""
        if not self.key.startswith(CONCEPT_PREFIX):
            return self.label
        concepts = get_glossary().concepts
        labels = []
        for concept in self.key.removeprefix(CONCEPT_PREFIX).split("+"):
            terms = concepts.get(concept, {})
            in_language = terms.get(language) or ()
            labels.append(in_language[0] if in_language else _english(terms, concept))
        return " + ".join(labels)

    @property
    def languages(self) -> list[str]:
        """The languages it was asked in, most asked first."""
        by_language: dict[str, int] = {}
        for (_, language), count in self.queries.items():
            by_language[language] = by_language.get(language, 0) + count
        return sorted(by_language, key=lambda language: (-by_language[language], language))


def group_unmet_demand(by_query_language: Mapping[tuple[str, str], int]) -> list[UnmetGroup]:
    """Groups of unmet searches counted by (query, language) (`unmet_demand_summary`'s
    `queries` rows), most asked first."""
    glossary = get_glossary()
    glossary_words = glossary_speller(glossary)
    asked_words = Speller()  # words of the groups made so far, more frequent first
    groups: dict[str, UnmetGroup] = {}
    spaced: dict[str, str] = {}  # words written together -> key ("bee keeping" = "beekeeping")
    ordered = sorted(by_query_language.items(), key=lambda row: (-row[1], row[0]))
    for (query, language), count in ordered:
        concepts = glossary.concepts_in(query, language)
        words = normalise_text(query).split()
        if not concepts:
            corrected = [_first(glossary_words.corrections(word, language), word) for word in words]
            concepts = glossary.concepts_in(" ".join(corrected), language)
        if concepts:
            key = CONCEPT_PREFIX + "+".join(sorted(concepts))
            label = " + ".join(
                _english(glossary.concepts[concept], concept) for concept in concepts
            )
        else:
            words = [_first(asked_words.corrections(word, language), word) for word in words]
            asked_words.add(words)
            key = spaced.setdefault("".join(words), WORDS_PREFIX + " ".join(words))
            label = query
        group = groups.setdefault(key, UnmetGroup(key=key, label=label))
        group.count += count
        group.queries[(query, language)] = count
    return sorted(groups.values(), key=lambda group: (-group.count, group.key))


def citizens_per_group(
    session: Session | None,
    groups: list[UnmetGroup],
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    askers: Mapping[tuple[str, str], set[Any]] | None = None,
) -> dict[str, int]:
    """Different senders per group (key: count) in [since, until), for open data: a citizen
    who asked "library" and "libary" is one citizen of that group, not two. Searches recorded
    before senders were kept count as one sender together. `askers` (the senders of each
    query as counted, which `unmet_citizens_summary` gathered from the same rows) spares a
    second read of them: 0.2 s of CPU over 100,000 unmet searches, a sixth of the open-data
    export's."""
    from knowledge.catalog import query_as_counted
    from knowledge.models import UnmetDemandRecord

    if askers is None:
        assert session is not None, "citizens_per_group reads the askers with a session"
        record = UnmetDemandRecord
        askers = citizens_gathered_by(
            session,
            {"queries": ((record.query, record.language), lambda pair: [query_as_counted(pair)])},
            record.created_at,
            since,
            until,
            record.sender_id,
        )["queries"]  # type: ignore[assignment]
    counted = {}
    for group in groups:
        who_asked: set[Any] = set()
        for pair in group.queries:
            who_asked |= askers.get(pair, set())
        counted[group.key] = len(who_asked)
    return counted


def _first(candidates: list[str], default: str) -> str:
    return candidates[0] if candidates else default


def _english(terms_by_language: Mapping[str, tuple[str, ...]], concept: str) -> str:
    english = terms_by_language.get("en") or ()
    return english[0] if english else concept
