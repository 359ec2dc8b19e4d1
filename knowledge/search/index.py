"""The hybrid index in memory: items by slot, dense and lexical retrievers, filter and geo columns.

Slots are append-only positions shared by every structure; an item's update takes a new slot
and retires the old one (see `dense.py` for why), and `reindexed` drops retired slots, reusing
the stored vectors.

Ranking: candidates from BM25 over the topic text, BM25 over the name fields (name, address,
district) and the dense retriever are scored by `fusion.fuse` (scores, not ranks). A question's
unknown words also look for the words they are a typo of (`spelling.py`).

`matched` (relevant, or only the closest thing the catalog has) is decided by the evidence:
the item holds enough of what the question asks, each part weighted by how informative it is
(`evidence.py`: "library" in a catalog of libraries says nothing), or its similarity to the
question stands clearly above the catalog's background (`DENSE_BACKGROUND_SIGMAS`).

With a location, matched results come nearest first (same place: best match first), then
the rest.
"""

from __future__ import annotations

import math
import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.documents import CatalogItem
from knowledge.search import geo
from knowledge.search.asked_names import AskedName, asked_names, holds_names
from knowledge.search.dense import DenseIndex
from knowledge.search.evidence import MATCH_COVERAGE, question_parts, share_held
from knowledge.search.fields import index_text, name_text
from knowledge.search.filters import FilterColumns, SearchFilters, item_features
from knowledge.search.fusion import (
    DEFAULT_WEIGHTS,
    FusionWeights,
    fuse,
    scaled_dense,
    scaled_lexical,
)
from knowledge.search.glossary import Expansion
from knowledge.search.lexical import (
    CONCEPT_PREFIX,
    LexicalIndex,
    concept_tokens,
    query_tokens,
    single_character_topics,
    tokenize,
)
from knowledge.search.results import SearchResult
from knowledge.search.spelling import Speller

__all__ = ["HybridIndex", "index_text", "name_text"]

CANDIDATES = 100  # per retriever, before fusion
CONCEPT_WEIGHT = 1.0  # a glossary concept in common counts like one shared word
# A one-character topic ("画") looks for every indexed word holding it (国画, 画画, 漫画); each
# counts for less than a word the question itself holds.
SINGLE_CHARACTER_WEIGHT = 0.5
# A word read as a typo of an indexed word counts for less than a word written right.
TYPO_WEIGHT = 0.8
# A hit with no informative word in common is relevant when its cosine similarity stands this
# many standard deviations above the question's mean similarity to the catalog (its
# background), and above DENSE_FLOOR; chosen on the labelled questions (docs/search.md).
DENSE_BACKGROUND_SIGMAS = 3.5
DENSE_FLOOR = 0.32
BACKGROUND_SAMPLE = 256  # items the background is measured on
# Same place ("nearest first, ties by relevance"): distances within this many metres tie.
SAME_PLACE_M = 10.0
# For Chinese questions an English-only embedding model (all-MiniLM-L6-v2, the default before
# multilingual e5) neither
# separates topics (unrelated Chinese texts reach cosine 0.5+) nor ranks well: on the labelled
# set, fusing its ranking at weight 1.0 / 0.3 / 0 gave hybrid recall@5 0.946 / 0.955 / 0.963
# against lexical-only 0.961. So with such a model its similarity never makes a match for a
# Chinese question and its ranking gets no weight there; a multilingual model gets full weight.
DENSE_WEIGHT_CJK_ENGLISH_ONLY_MODEL = 0.0
MODES = ("hybrid", "dense", "lexical")
_NOT_LATIN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u0400-\u04ff\u0600-\u06ff]")

Encoder = Callable[[str], np.ndarray]


@dataclass
class _Candidate:
    slot: int
    relevance: float
    matched: bool


class HybridIndex:
    """Everything search needs, addressable by slot."""

    def __init__(self, dimension: int) -> None:
        self.dense = DenseIndex(dimension)
        self.lexical = LexicalIndex()
        self.names = LexicalIndex()  # name, address, district: exact matches
        self._speller: Speller | None = None  # built on the first unknown word
        self.columns = FilterColumns()
        # Items are kept pickled: a third of the memory of live objects at 100k items, and a
        # faster load; only the few returned per search are unpickled.
        self.items: list[bytes | None] = []
        self.slot_of: dict[str, int] = {}
        self.hashes: dict[str, str] = {}
        self.alive = np.zeros(0, dtype=bool)
        self.latitude = np.zeros(0, dtype=np.float64)
        self.longitude = np.zeros(0, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.slot_of)

    @property
    def retired(self) -> int:
        return len(self.items) - len(self.slot_of)

    def add(
        self,
        items: Sequence[CatalogItem],
        vectors: np.ndarray,
        hashes: Sequence[str],
        concepts: Sequence[tuple[str, ...]],
    ) -> None:
        """Append items (new or replacing older versions of the same id) with their vectors and
        the glossary concepts their text mentions. Ids must not repeat within `items`."""
        if len({item.id for item in items}) != len(items):
            raise ValueError("an id appears twice in one add")
        for item in items:
            if item.id in self.slot_of:
                self.retire(item.id)
        first = len(self.items)
        if self.dense.add(vectors) != first:
            raise RuntimeError("dense index and item slots are out of step")
        topic_tokens = [tokenize(index_text(item)) for item in items]
        self.lexical.add(
            first,
            [
                tokens + concept_tokens(found)
                for tokens, found in zip(topic_tokens, concepts, strict=True)
            ],
        )
        name_tokens = [tokenize(name_text(item)) for item in items]
        if len(self.names.doc_length) != first:
            raise RuntimeError("name index and item slots are out of step")
        self.names.add(first, name_tokens)
        if self._speller is not None:
            self._speller.add(token for tokens in topic_tokens + name_tokens for token in tokens)
        self.columns.append([item_features(item) for item in items])
        self.items.extend(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL) for item in items)
        self.alive = np.concatenate([self.alive, np.ones(len(items), dtype=bool)])
        self.latitude = np.concatenate([self.latitude, [_coordinate(i.latitude) for i in items]])
        self.longitude = np.concatenate([self.longitude, [_coordinate(i.longitude) for i in items]])
        for offset, (item, digest) in enumerate(zip(items, hashes, strict=True)):
            self.slot_of[item.id] = first + offset
            self.hashes[item.id] = digest

    def retire(self, item_id: str) -> bool:
        """Take an item out of every result; False if it was not indexed."""
        slot = self.slot_of.pop(item_id, None)
        if slot is None:
            return False
        self.hashes.pop(item_id, None)
        self.alive[slot] = False
        self.items[slot] = None
        self.lexical.forget(slot)
        self.names.forget(slot)
        return True

    def reindexed(self, concepts_in: Callable[[str], tuple[str, ...]]) -> HybridIndex:
        """A new index of the live items only, built from their stored vectors (nothing is
        embedded again); `concepts_in(text)` gives a document's glossary concepts."""
        slots = np.flatnonzero(self.alive)
        items = [self.item_at(int(slot)) for slot in slots]
        live = [item for item in items if item is not None]
        if len(live) != len(slots):
            raise RuntimeError("a live slot has no item")
        fresh = HybridIndex(self.dense.dimension)
        fresh.add(
            live,
            self.dense.vectors()[slots].copy(),
            [self.hashes[item.id] for item in live],
            [concepts_in(index_text(item)) for item in live],
        )
        return fresh

    def get(self, item_id: str) -> CatalogItem | None:
        slot = self.slot_of.get(item_id)
        return None if slot is None else self.item_at(slot)

    def item_at(self, slot: int) -> CatalogItem | None:
        data = self.items[slot]
        return None if data is None else pickle.loads(data)  # our own bytes, from add()

    def corrections(
        self, text: str, fallback: Speller | None = None, language: str | None = None
    ) -> dict[str, list[str]]:
        """Indexed words the question's unknown words may be typos of ("pottry" -> pottery),
        by unknown word; `fallback` (the glossary's words) is asked when the index has none."""
        found: dict[str, list[str]] = {}
        for token in dict.fromkeys(tokenize(text)):
            if token in self.lexical.postings or token in self.names.postings:
                continue
            if self._speller is None:
                self._speller = Speller(
                    token
                    for token in (*self.lexical.postings, *self.names.postings)
                    if not token.startswith(CONCEPT_PREFIX)
                )
            fixed = self._speller.corrections(token, language)
            if not fixed and fallback is not None:
                fixed = fallback.corrections(token, language)
            if fixed:
                found[token] = fixed
        return found

    def query(
        self,
        text: str,
        encode: Encoder,
        expansion: Expansion,
        *,
        limit: int = 5,
        filters: SearchFilters | None = None,
        near: tuple[float, float] | None = None,
        radius_m: float | None = None,
        language: str | None = None,
        mode: str = "hybrid",
        multilingual: bool = False,
        corrections: Mapping[str, Sequence[str]] | None = None,
        weights: FusionWeights = DEFAULT_WEIGHTS,
    ) -> list[SearchResult]:
        """Ranked results for one question; see the module docstring for how.
        `multilingual`: the embedding model understands Chinese as well as English.
        `corrections`: the words the question's typos stand for (see `corrections`)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        allowed = self._allowed(filters, near, radius_m)
        weighted = query_tokens(text, expansion.concepts, CONCEPT_WEIGHT)
        corrections = corrections or {}
        for words in corrections.values():
            for word in words:
                weighted.setdefault(word, TYPO_WEIGHT)
        characters = single_character_topics(text)
        held: dict[str, list[str]] = {}
        for character in characters:
            held[character] = self.lexical.tokens_containing(character)
            for token in held[character]:
                weighted.setdefault(token, SINGLE_CHARACTER_WEIGHT)
        groups = question_parts(text, expansion, corrections, held)
        if not weighted and not expansion.concepts and not characters:
            return self._browse(text, encode, allowed, limit, near)
        candidates = self._candidates(
            text,
            encode,
            expansion,
            weighted,
            (groups, asked_names(text, language, corrections, expansion)),
            allowed,
            mode,
            multilingual,
            weights,
            language,
        )
        return self._finish(candidates, limit, near, language)

    def _allowed(
        self,
        filters: SearchFilters | None,
        near: tuple[float, float] | None,
        radius_m: float | None,
    ) -> np.ndarray:
        allowed = self.alive.copy()
        if filters is not None and not filters.is_empty():
            allowed &= self.columns.mask(filters)
        if near is not None and radius_m is not None:
            lat, lon = near
            # A cheap bounding box first, exact distances only for what is inside it.
            dlat = math.degrees(radius_m / geo.EARTH_RADIUS_M)
            dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
            box = (np.abs(self.latitude - lat) <= dlat) & (np.abs(self.longitude - lon) <= dlon)
            allowed &= box
            inside = np.flatnonzero(allowed)
            far = (
                geo.distances_m(lat, lon, self.latitude[inside], self.longitude[inside]) > radius_m
            )
            allowed[inside[far]] = False
        return allowed

    def _candidates(
        self,
        text: str,
        encode: Encoder,
        expansion: Expansion,
        weighted: dict[str, float],
        parts: tuple[list[list[str]], list[AskedName]],
        allowed: np.ndarray,
        mode: str,
        multilingual: bool,
        weights: FusionWeights,
        language: str | None = None,
    ) -> list[_Candidate]:
        restricted = None if allowed.all() else allowed  # unrestricted searches take fast paths
        groups, names_asked = parts
        words = {t: w for t, w in weighted.items() if not t.startswith(CONCEPT_PREFIX)}
        found: list[np.ndarray] = []
        lexical_slots = np.zeros(0, dtype=np.int64)
        lexical_scores = np.zeros(0, dtype=np.float32)
        if mode != "dense":
            lexical_slots, lexical_scores = self.lexical.search(weighted, CANDIDATES, restricted)
            found += [lexical_slots, self.names.search(words, CANDIDATES, restricted)[0]]
        vector = None
        trusted = _dense_trusted(text, multilingual)
        if mode != "lexical":
            vector = encode(_dense_text(text, expansion))
            found.append(self.dense.search(vector, CANDIDATES, restricted)[0])
        slots = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
        if not len(slots):
            return []
        lexical = np.zeros(len(slots), dtype=np.float64)
        lexical[np.searchsorted(slots, lexical_slots)] = lexical_scores
        names = np.zeros(len(slots))
        matched = np.zeros(len(slots), dtype=bool)
        if mode != "dense":
            names = self.names.coverage(words, slots)
            share = share_held(groups, slots, self.lexical, self.names, language)
            matched = share >= MATCH_COVERAGE
        dense = np.zeros(len(slots))
        if vector is not None:
            cosines = self.dense.vectors()[slots] @ vector
            mean, spread = self._background(vector)
            dense = scaled_dense(cosines, mean)
            if trusted:
                matched |= (cosines >= mean + DENSE_BACKGROUND_SIGMAS * spread) & (
                    cosines >= DENSE_FLOOR
                )
        if mode != "dense":  # a name asked for and not held: whatever else matches, not this
            matched &= holds_names(names_asked, slots, self.lexical, self.names)
        if mode == "dense":
            weights = FusionWeights(lexical=0.0, dense=1.0, names=0.0)
        elif mode == "lexical" or not trusted:
            weights = FusionWeights(lexical=weights.lexical, dense=0.0, names=weights.names)
        relevance = fuse(scaled_lexical(lexical), dense, names, weights)
        return [
            _Candidate(int(slot), float(score), bool(hit))
            for slot, score, hit in zip(slots, relevance, matched, strict=True)
        ]

    def _background(self, vector: np.ndarray) -> tuple[float, float]:
        """Mean and standard deviation of the question's similarity to a sample of items."""
        live = np.flatnonzero(self.alive)
        if not len(live):
            return 0.0, 0.0
        sample = live[:: max(1, len(live) // BACKGROUND_SAMPLE)]
        similarities = self.dense.vectors()[sample] @ vector
        return float(similarities.mean()), float(similarities.std())

    def _finish(
        self,
        candidates: list[_Candidate],
        limit: int,
        near: tuple[float, float] | None,
        language: str | None,
    ) -> list[SearchResult]:
        scored = []  # (matched, score, slot, distance), items unpickled only for the chosen few
        for candidate in candidates:
            if not self.alive[candidate.slot]:
                continue
            score = candidate.relevance
            if language and self.columns.teaches_in(candidate.slot, language):
                score *= 1.05  # a tie-breaker towards teaching in the citizen's language
            distance = self._distance(candidate.slot, near)
            scored.append((candidate.matched, score, candidate.slot, distance))
        if near is None:
            scored.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
        else:  # nearest first; at the same place, best match first; no coordinates last
            scored.sort(
                key=lambda entry: (
                    not entry[0],
                    math.inf if entry[3] is None else round(entry[3] / SAME_PLACE_M),
                    -entry[1],
                )
            )
        relevant = [entry for entry in scored if entry[0]]
        return [
            SearchResult(self.item_at(slot), score, distance, matched)  # type: ignore[arg-type]
            for matched, score, slot, distance in (relevant or scored)[:limit]
        ]

    def _browse(
        self,
        text: str,
        encode: Encoder,
        allowed: np.ndarray,
        limit: int,
        near: tuple[float, float] | None,
    ) -> list[SearchResult]:
        """No topic asked (blank, or only words such as "free classes"): list what passes the
        filters, nearest first when a location is known, else by similarity to the words."""
        if near is not None:
            passing = np.flatnonzero(allowed & ~np.isnan(self.latitude))
            far = geo.distances_m(near[0], near[1], self.latitude[passing], self.longitude[passing])
            order = np.argsort(far, kind="stable")[:limit]
            return [
                SearchResult(self.item_at(s), geo.proximity(float(d)), float(d), True)  # type: ignore[arg-type]
                for s, d in zip(passing[order], far[order], strict=True)
            ]
        if text.strip():
            slots, scores = self.dense.search(encode(text), limit, allowed)
        else:
            slots = np.flatnonzero(allowed)[:limit]
            scores = np.ones(len(slots), dtype=np.float32)
        return [
            SearchResult(self.item_at(s), float(score), None, True)  # type: ignore[arg-type]
            for s, score in zip(slots, scores, strict=True)
        ]

    def _distance(self, slot: int, near: tuple[float, float] | None) -> float | None:
        if near is None or math.isnan(self.latitude[slot]):
            return None
        return geo.haversine_m(near[0], near[1], self.latitude[slot], self.longitude[slot])


def _dense_trusted(text: str, multilingual: bool) -> bool:
    """Whether the embedding model can judge this question (see DENSE_WEIGHT_CJK_...): an
    English-only model places Chinese, Cyrillic and Arabic text by its few Latin-looking
    pieces (a Ukrainian question about violin lessons "matched" a help desk for Russian
    speakers)."""
    return multilingual or not _NOT_LATIN.search(text)


def _dense_text(text: str, expansion: Expansion) -> str:
    """The query the embedding model sees: the words plus the glossary's English words, added
    for the English-only MiniLM, which places Chinese text poorly (kept with multilingual e5,
    the default since, whose real-catalog numbers in docs/search.md include it)."""
    if not expansion.english_terms or text.isascii():
        return text  # already English: added words would only blur it
    return f"{text} ({', '.join(expansion.english_terms[:3])})"


def _coordinate(value: float | None) -> float:
    return math.nan if value is None else float(value)
