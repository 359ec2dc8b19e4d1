"""Follow-ups that compare with what was shown ("cheaper?", "closer to me"), on the real
sample city and its index."""

from __future__ import annotations

import json

import pytest

from actions import follow_up
from actions.search_flow import SearchState

ENGLISH = SearchState(kind="course", query="English", topic="English")


def _entity(name: str, value: str) -> dict[str, str]:
    return {"entity": name, "value": value}


def test_cheaper_is_read_from_the_price_entity_only() -> None:
    assert follow_up.asks_cheaper([_entity("price", "cheaper")])
    assert not follow_up.asks_cheaper([_entity("price", "free"), _entity("topic", "cheaper")])


@pytest.mark.parametrize(
    "text",
    [
        "closer to me",
        "anything nearer?",
        "有没有离我近一点的",
        "más cerca",
        "plus près de chez moi",
        "поближе",
        "ближче до мене",
        "شيء أقرب",
    ],
)
def test_closer_is_read_in_the_seven_languages(text: str) -> None:
    assert follow_up.asks_closer(text)


@pytest.mark.parametrize("text", ["close the chat", "/search_course", "nearest library", ""])
def test_other_words_are_not_closer(text: str) -> None:
    assert not follow_up.asks_closer(text)


def test_cheaper_keeps_the_topic_below_the_cheapest_paid_price_shown(sample_city: str) -> None:
    shown = follow_up.page_for(ENGLISH, "en").results
    bound = follow_up.cheaper_bound(shown)
    paid = [follow_up.price_amount(result) for result in shown if not result.item.free]
    assert bound == min(amount for amount in paid if amount)
    refined = follow_up.refine_cheaper(ENGLISH, ENGLISH, "en")
    assert refined.cheaper_than == bound and refined.topic == "English"
    page = follow_up.page_for(refined, "en")
    amounts = [follow_up.price_amount(result) for result in page.results]
    assert page.results and all(a is not None and (a == 0 or a < bound) for a in amounts)
    assert amounts == sorted(amounts)  # type: ignore[type-var]


def test_cheaper_after_only_free_results_keeps_to_free_ones(sample_city: str) -> None:
    free_english = SearchState(
        kind="course", query="English", topic="English", filters={"free_only": True}
    )
    refined = follow_up.refine_cheaper(free_english, free_english, "en")
    assert refined.cheaper_than == 0.0
    page = follow_up.page_for(refined, "en")
    assert page.results and all(result.item.free for result in page.results)


def test_cheaper_pages_follow_one_another_without_repeating(sample_city: str) -> None:
    everything = SearchState(kind="course", query="", cheaper_than=200.0)
    first = follow_up.page_for(everything, "en", page_size=3)
    second = follow_up.page_for(SearchState(kind="course", cheaper_than=200.0, offset=3), "en", 3)
    assert first.has_more and second.results
    assert not {r.item.id for r in first.results} & {r.item.id for r in second.results}


def test_closer_runs_the_last_search_without_its_district_plus_what_is_named_now() -> None:
    previous = SearchState(
        kind="course", query="English", topic="English", filters={"district": "Jiangbin"}, offset=5
    )
    around = follow_up.around_the_citizen(previous, [_entity("price", "free")])
    assert around.filters == {"free_only": True}
    assert (around.topic, around.offset, around.near) == ("English", 0, None)


def test_the_price_bound_survives_the_slot_round_trip() -> None:
    state = SearchState(kind="course", query="English", topic="English", cheaper_than=150.0)
    assert SearchState.from_slot(json.loads(json.dumps(state.as_slot()))) == state


def test_cheaper_around_a_point_keeps_the_nearest_first(sample_city: str) -> None:
    state = SearchState(kind="course", near=(31.23, 121.47), cheaper_than=200.0)
    page = follow_up.page_for(state, "en")
    distances = [result.distance_m for result in page.results]
    amounts = [follow_up.price_amount(result) for result in page.results]
    assert page.results and distances == sorted(distances)  # type: ignore[type-var]
    assert all(amount is not None and amount < 200 for amount in amounts), amounts
