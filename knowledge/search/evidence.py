"""Lexical evidence for `matched`: how much of what a question asks an item holds.

A question is cut into parts (`question_parts`), each a list of tokens any of which answers
it; each part weighs what its most informative token does (Robertson-Sparck Jones IDF over
live items, `LexicalIndex.evidence_weight`: nothing for a token held by half of the items or
more); an item's share (`share_held`) is the weight of the parts it holds, over the total.
An item holding at least `MATCH_COVERAGE` of the question is relevant. A word of nearly
every sentence ("end", "out", "where") weighs as little as a part most items hold, even when
the catalog has it once ("East End"): it names no topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from knowledge.search.glossary import Expansion, written_as
from knowledge.search.lexical import (
    CONCEPT_PREFIX,
    LexicalIndex,
    concept_tokens,
    token_groups,
    tokenize,
)
from knowledge.search.spelling import EVERYDAY_WORD_ZIPF, is_common_word

# A hit is relevant lexically when it holds at least this share of the question (see
# `share_held`), each part weighted by how informative it is. On the labelled questions
# (labelled_queries.yml, unmet_queries.yml) 0.2-0.5 all found the same unmet questions
# (precision 1.0, recall 0.955 on unmet_queries.yml); recall@5 fell from 0.965 at 0.25 to
# 0.938 at 0.5, as items answering part of a question ("programming for kids": robotics for
# teens) stopped counting.
MATCH_COVERAGE = 0.25
# A part held by half of the items or more tells them apart by nothing, but it is there: it
# weighs this little, so a question made only of such parts ("free computer classes" where
# every branch has public computers) is answered, and one that also asks for something no
# item holds ("adult hockey league") is not.
COMMON_PART_WEIGHT = 0.1
# A word no item holds may name what the catalog lacks ("violin") or say in other words what
# it has ("elderly" for courses "for seniors"): it weighs half of what the rarest word does.
UNKNOWN_WORD_SHARE = 0.5
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def question_parts(
    text: str,
    expansion: Expansion,
    corrections: Mapping[str, Sequence[str]],
    held: Mapping[str, list[str]],
) -> list[list[str]]:
    """The parts of a question, each a list of tokens any of which answers it: a glossary
    concept (the words that named it are only the concept: "first" alone is not first aid,
    "工作" alone is not 找工作; documents carry the concept wherever they hold one of its
    terms), a typo's corrections, a one-character topic's words (`held`), a Chinese word with
    its bigrams, and every other word on its own."""
    parts = token_groups(text, held)
    words = {token for part in parts for token in part}
    absorbed: set[str] = set(corrections)
    groups: list[list[str]] = []
    for concept in expansion.concepts:
        for term in expansion.concept_terms.get(concept, ()):
            term_tokens = _term_tokens(term)
            absorbed.update(w for w in words if any(written_as(token, w) for token in term_tokens))
        groups.append(concept_tokens([concept]))
    groups += [list(fixed) for fixed in corrections.values()]
    groups += [tokens for tokens in held.values() if tokens]
    groups += [part for part in parts if not absorbed.intersection(part)]
    return groups


def share_held(
    groups: list[list[str]],
    slots: np.ndarray,
    topics: LexicalIndex,
    names: LexicalIndex,
    language: str | None = None,
) -> np.ndarray:
    """The share of the question's weight each slot holds, in its topic text or its names.
    A word no item holds counts only when the catalog is written in the question's
    `language` (catalog_language.py); otherwise it may just be a word of another language."""
    absent_counts = language is None or topics.written_in(language)
    held = np.zeros(len(slots))
    total = 0.0
    for group in groups:
        weight = max(_weight(token, topics, names, absent_counts, language) for token in group)
        if weight <= 0:
            continue
        total += weight
        present = np.zeros(len(slots), dtype=bool)
        for token in group:
            present |= topics.present(token, slots) | names.present(token, slots)
        held += weight * present
    return held / total if total > 0 else held


def _weight(
    token: str, topics: LexicalIndex, names: LexicalIndex, absent_counts: bool, language: str | None
) -> float:
    index = topics if token in topics.postings else names
    weight = index.evidence_weight(token)
    held = bool(index.document_frequency(token))
    if _everyday(token, language):  # "once classes end": "end" is no topic, held or not
        return COMMON_PART_WEIGHT if held or absent_counts else 0.0
    if not held:
        return weight * UNKNOWN_WORD_SHARE if absent_counts else 0.0
    return max(weight, COMMON_PART_WEIGHT)


@lru_cache(maxsize=65536)
def _everyday(token: str, language: str | None) -> bool:
    """A word of nearly every sentence (spelling.EVERYDAY_WORD_ZIPF); glossary concepts are not.
    Alphabetic words only: Chinese words would load wordfreq's own jieba dictionary (~1 s, at
    a citizen's first Chinese question), and jieba's cut already drops the particles."""
    if token.startswith(CONCEPT_PREFIX) or _CJK.search(token):
        return False
    return is_common_word(token, None if language in ("zh", "ja") else language, EVERYDAY_WORD_ZIPF)


@lru_cache(maxsize=8192)
def _term_tokens(term: str) -> tuple[str, ...]:
    """A glossary term's tokens (terms repeat in every question that names their concept)."""
    return tuple(tokenize(term))
