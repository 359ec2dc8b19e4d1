"""Follow-ups that compare with what was just shown: "cheaper?" and "closer to me".

Short turns that name a filter, a place or a date ("free ones", "in Nanhu", "this weekend")
are merged into the last search by `search_flow.plan_search`. Two follow-ups need the last
search's results themselves:

- "cheaper?" / 有便宜一点的吗 / "moins cher ?": the same search, only what costs less than the
  cheapest paid result the citizen was shown (free ones always), cheapest first; the NLU
  reads them as the price entity `cheaper` (nlu/data/nlu/synonyms.yml).
- "closer to me" / 离我近一点的 / "plus près": the same search around the citizen's location,
  nearest first (the location is asked for, as with "near me").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from actions import search_flow
from actions.search_flow import PAGE_SIZE, SearchPage, SearchState
from knowledge import SearchResult

CHEAPER = "cheaper"  # the normalised value of the price entity
# A "cheaper" page is chosen from this many results of the same search (a city's catalog
# holds a few dozen offers on one topic at most; the rest are less relevant anyway).
CHEAPER_POOL = 60

# Comparatives of "near" ("near me" itself is search_flow.is_near_me).
_CLOSER = re.compile(
    r"\bcloser\b|\bnearer\b|更近|近一点|近一些|近点|近些"
    r"|más cerca|plus près|plus proche|ближе|поближе|ближче|أقرب",
    re.IGNORECASE,
)
_AMOUNT = re.compile(r"\d+(?:[.,]\d+)?")


def asks_cheaper(entities: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the NLU read "cheaper" (any language) in the message."""
    return any(
        entity.get("entity") == "price" and str(entity.get("value") or "").lower() == CHEAPER
        for entity in entities
    )


def asks_closer(text: str | None) -> bool:
    """Whether the citizen asked for something closer than what was shown."""
    return bool(text) and not str(text).startswith("/") and bool(_CLOSER.search(str(text)))


def price_amount(result: SearchResult) -> float | None:
    """What a result costs as a number (0 when free); None when the catalog does not say."""
    if result.item.free:
        return 0.0
    match = _AMOUNT.search(result.item.price or "")
    return float(match.group().replace(",", ".")) if match else None


def cheaper_bound(shown: Sequence[SearchResult]) -> float:
    """The price to go below: the lowest paid price among `shown` (0: only free ones)."""
    paid = [amount for amount in map(price_amount, shown) if amount]
    return min(paid) if paid else 0.0


def refine_cheaper(state: SearchState, previous: SearchState, language: str | None) -> SearchState:
    """`state` (the refined search) kept to what costs less than the last page showed."""
    shown = page_for(previous, language).results
    return replace(state, offset=0, cheaper_than=cheaper_bound(shown))


def page_for(state: SearchState, language: str | None, page_size: int = PAGE_SIZE) -> SearchPage:
    """One page of `state`: the search as it is, or, after "cheaper?", the results below its
    price, cheapest first (at one price, the better match first; around a point, nearest
    first)."""
    if state.cheaper_than is None:
        return search_flow.run_search(state, language, page_size)
    pool = search_flow.run_search(replace(state, offset=0), language, CHEAPER_POOL)
    bound = state.cheaper_than
    cheaper = [
        (amount, position, result)
        for position, result in enumerate(pool.results)
        if (amount := price_amount(result)) is not None and (amount == 0 or amount < bound)
    ]
    if state.near is None:
        cheaper.sort(key=lambda row: (row[0], row[1]))
    ordered = [result for _, _, result in cheaper]
    end = state.offset + page_size
    return replace(
        pool, state=state, results=ordered[state.offset : end], has_more=len(ordered) > end
    )


def around_the_citizen(previous: SearchState, entities: Sequence[Mapping[str, Any]]) -> SearchState:
    """The last search, with any filter named now, to run around the location asked for."""
    filters = {**previous.filters, **search_flow.filters_from_entities(entities)}
    filters.pop("district", None)  # near the citizen, not in the district searched before
    return replace(previous, filters=filters, offset=0, near=None)
