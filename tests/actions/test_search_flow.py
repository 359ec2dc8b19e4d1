"""The search conversation's rules, run against the real sample city and its index."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from actions import search_flow
from actions.search_flow import SearchState

HAILIN_CENTRE = (31.23, 121.47)


def _entity(name: str, value: str) -> dict[str, str]:
    return {"entity": name, "value": value}


def test_filters_come_from_normalised_entities() -> None:
    filters = search_flow.filters_from_entities(
        [
            _entity("schedule", "weekend"),
            _entity("price", "free"),
            _entity("audience", "children"),
            _entity("district", "Nanhu"),
            _entity("schedule", "afternoon"),  # unknown time: narrows nothing, breaks nothing
        ]
    )
    assert filters == {
        "time_of_day": "weekend",
        "free_only": True,
        "audience": "children",
        "district": "Nanhu",
    }


def test_a_follow_up_refines_the_previous_search_and_starts_at_the_first_page() -> None:
    previous = SearchState(kind="course", query="pottery", topic="pottery", offset=5)
    refined = search_flow.plan_search(
        "course", text=None, entities=[_entity("schedule", "weekend")], previous=previous
    )
    assert refined == SearchState(
        kind="course", query="pottery", topic="pottery", filters={"time_of_day": "weekend"}
    )
    fresh = search_flow.plan_search(
        "course",
        text="I want to learn python",
        entities=[_entity("topic", "python")],
        previous=refined,
    )
    assert fresh is not None and fresh.query == "python" and fresh.filters == {}


def test_a_bare_answer_refines_a_search_of_any_kind() -> None:
    previous = SearchState(kind="space", query="")
    refined = search_flow.plan_search(
        "course",
        text="in Nanhu",
        entities=[_entity("district", "Nanhu")],
        previous=previous,
        refine_previous=True,
    )
    assert refined is not None and refined.kind == "space"
    assert refined.filters == {"district": "Nanhu"}


def test_a_topic_that_names_nothing_gives_way_to_the_citizens_own_words(sample_city) -> None:  # type: ignore[no-untyped-def]
    state = search_flow.plan_search(
        "course", text="有教做面包的吗", entities=[_entity("topic", "做")], previous=None
    )
    assert state is not None and state.query == "有教做面包的吗" and state.topic == "做"
    page = search_flow.run_search(state, "zh")
    assert not page.unmet
    assert any("Cooking" in r.item.name or "烹饪" in r.item.name for r in page.results)
    named = search_flow.plan_search(
        "course", text="我想学陶艺", entities=[_entity("topic", "陶艺")], previous=None
    )
    assert named is not None and named.query == "陶艺"


def test_words_naming_a_kind_of_space_search_for_it_and_generic_ones_list_all(sample_city) -> None:  # type: ignore[no-untyped-def]
    libraries = search_flow.plan_search(
        "space", text="¿hay bibliotecas?", entities=[], previous=None
    )
    assert libraries is not None and libraries.query == "¿hay bibliotecas?"
    page = search_flow.run_search(libraries, "es")
    assert page.results and all(
        "图书" in r.item.name or "Library" in r.item.name for r in page.results
    )
    anything = search_flow.plan_search("space", text="learning spaces", entities=[], previous=None)
    assert anything is not None and anything.query == ""
    quiet = search_flow.run_search(
        SearchState(kind="space", query="somewhere with ergonomic beanbags"), "en"
    )
    assert quiet.results and quiet.browsing and not quiet.unmet  # words found nothing: list


def test_a_language_named_in_a_course_search_is_the_topic_in_the_citizens_words() -> None:
    text = "¿hay cursos de inglés en Xicheng?"
    entities = [
        {"entity": "language", "value": "en", "start": 15, "end": 21},
        {"entity": "district", "value": "Xicheng", "start": 25, "end": 32},
    ]
    state = search_flow.plan_search("course", text=text, entities=entities, previous=None)
    assert state is not None and state.topic == "inglés"
    assert state.filters == {"district": "Xicheng"}
    spaces = search_flow.plan_search("space", text=text, entities=entities, previous=None)
    assert spaces is not None and spaces.topic is None


def test_a_phrase_tagged_as_two_adjacent_topics_is_searched_whole() -> None:
    text = "أريد دورة لغة إنجليزية"  # "I want an English language course"
    split = [
        {"entity": "topic", "value": "لغة", "start": 10, "end": 13},
        {"entity": "topic", "value": "إنجليزية", "start": 14, "end": 22},
    ]
    state = search_flow.plan_search("course", text=text, entities=split, previous=None)
    assert state is not None and state.topic == "لغة إنجليزية"
    apart = "pottery and then yoga"
    two = [
        {"entity": "topic", "value": "pottery", "start": 0, "end": 7},
        {"entity": "topic", "value": "yoga", "start": 17, "end": 21},
    ]
    state = search_flow.plan_search("course", text=apart, entities=two, previous=None)
    assert state is not None and state.topic == "pottery"  # not adjacent: the first one
    one = [{"entity": "topic", "value": "English", "start": 0, "end": 2}]  # a synonym's value
    state = search_flow.plan_search("course", text="英语", entities=one, previous=None)
    assert state is not None and state.topic == "English"


def test_nothing_to_search_yet_when_a_course_search_names_nothing() -> None:
    assert (
        search_flow.plan_search("course", text="/search_course", entities=[], previous=None) is None
    )


def test_near_me_in_several_languages_but_not_near_a_named_district() -> None:
    for question in (
        "pottery class near me",
        "附近有图书馆吗",
        "bibliothèque près de moi",
        "бібліотека поруч",
    ):
        assert search_flow.is_near_me(question), question
    assert not search_flow.is_near_me("南湖附近有陶艺班吗？", [_entity("district", "Nanhu")])
    assert not search_flow.is_near_me('/find_learning_space{"schedule": "weekend"}')
    assert search_flow.strip_near_me("pottery class near me") == "pottery class"


def test_pages_follow_one_another_without_repeating(sample_city: str) -> None:
    first = search_flow.run_search(SearchState(kind="space"), "en", page_size=3)
    assert len(first.results) == 3 and first.has_more and not first.unmet
    second = search_flow.run_search(search_flow.next_page(first.state, 3), "en", page_size=3)
    assert second.results
    assert not {r.item.id for r in first.results} & {r.item.id for r in second.results}
    assert all(r.item.type == "space" for r in first.results + second.results)


def test_follow_up_buttons_refine_and_drop_filters_already_applied(sample_city: str) -> None:
    state = SearchState(kind="course", query="English", topic="English")
    page = search_flow.run_search(state, "en")
    assert page.results and not page.unmet
    payloads = dict(search_flow.follow_up_payloads(page))
    assert payloads["button_weekends"] == '/search_course{"schedule": "weekend"}'
    assert payloads["button_free"] == '/search_course{"price": "free"}'
    assert payloads["button_for_my_child"] == '/search_course{"audience": "children"}'
    weekend = search_flow.run_search(
        SearchState(
            kind="course", query="English", topic="English", filters={"time_of_day": "weekend"}
        ),
        "en",
    )
    assert "button_weekends" not in dict(search_flow.follow_up_payloads(weekend))


def test_cards_carry_what_every_channel_renders(sample_city: str) -> None:
    page = search_flow.run_search(
        SearchState(kind="course", query="pottery", topic="pottery"), "en"
    )
    card = search_flow.card(page.results[0]).to_json()
    assert set(card) == {
        "id",
        "type",
        "name",
        "place",
        "schedule",
        "free",
        "price",
        "distance_m",
        "latitude",
        "longitude",
        "url",
    }
    assert "pottery" in card["name"].lower() or "陶" in card["name"]
    assert all(isinstance(card[key], str) for key in ("name", "place", "schedule", "price", "url"))


def test_near_a_point_results_come_nearest_first_with_distances(sample_city: str) -> None:
    page = search_flow.run_search(SearchState(kind="space", near=HAILIN_CENTRE), "en")
    distances = [result.distance_m for result in page.results]
    assert distances and all(d is not None for d in distances)
    assert distances == sorted(distances)


def test_an_unmet_search_is_recorded_with_its_sender_for_my_data(sample_city: str) -> None:
    state = SearchState(kind="course", query="beekeeping", topic="beekeeping")
    page = search_flow.run_search(state, "en")
    assert page.unmet and page.results == []
    search_flow.record_unmet(state, "en", "telegram:4242", sample_city)
    engine = create_engine(sample_city)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT query, language, filters, sender_id FROM unmet_demand"
                " WHERE query = 'beekeeping'"
            )
        ).all()
    engine.dispose()
    assert len(rows) == 1 and rows[0][1] == "en" and rows[0][3] == "telegram:4242"
    assert json.loads(rows[0][2]) == {"types": ["course", "event"]}


def test_a_topic_that_no_filter_allows_shows_the_topic_at_other_times(sample_city: str) -> None:
    unfiltered = search_flow.run_search(SearchState(query="guitar", topic="guitar"), "en")
    assert not unfiltered.unmet and not unfiltered.relaxed
    guitar_days = {day for r in unfiltered.results for s in r.item.sessions for day in s.days}
    assert "saturday" not in guitar_days and "sunday" not in guitar_days  # the premise
    weekends = SearchState(query="guitar", topic="guitar", filters={"time_of_day": "weekend"})
    page = search_flow.run_search(weekends, "en")
    assert page.relaxed and not page.unmet
    assert [r.item.id for r in page.results] == [r.item.id for r in unfiltered.results]
    assert search_flow.follow_up_payloads(page) == []  # "only weekends?" again would loop


def test_district_and_audience_words_do_not_make_other_courses_look_like_the_topic(
    sample_city: str,
) -> None:
    text = "pottery class in Nanhu for seniors"
    entities = [
        {"entity": "topic", "value": "pottery", "start": 0, "end": 7},
        {"entity": "district", "value": "Nanhu", "start": 17, "end": 22},
        {"entity": "audience", "value": "seniors", "start": 27, "end": 34},
    ]
    state = search_flow.plan_search("course", text=text, entities=entities, previous=None)
    assert state is not None and "Nanhu" not in state.question and "seniors" not in state.question
    page = search_flow.run_search(state, "en")
    assert page.results and page.relaxed
    assert all(
        "陶" in r.item.name or "ottery" in r.item.name or "Taster" in r.item.name
        for r in page.results
    )


def test_a_topic_the_catalog_lacks_stays_unmet_whatever_the_filters(sample_city: str) -> None:
    state = SearchState(query="beekeeping", topic="beekeeping", filters={"free_only": True})
    page = search_flow.run_search(state, "en")
    assert page.unmet and not page.relaxed and page.results == []


def test_the_search_state_survives_the_slot_round_trip() -> None:
    state = SearchState(
        kind="space",
        query="library",
        topic="library",
        filters={"free_only": True},
        offset=5,
        near=HAILIN_CENTRE,
    )
    assert SearchState.from_slot(json.loads(json.dumps(state.as_slot()))) == state
    assert SearchState.from_slot(None) is None
