"""Search actions: courses, learning spaces, events, "more", follow-ups and "near me"."""

from __future__ import annotations

from dataclasses import replace

from rasa_sdk.events import EventType, SlotSet

import knowledge
from actions import event_dates, follow_up, search_flow
from actions.base import LearncityAction, Turn
from actions.search_flow import SearchPage, SearchState
from knowledge import DATED_KINDS
from knowledge.search import DateSpan

LAST_SEARCH_SLOT = "last_search"
PENDING_NEAR_SLOT = "pending_near_search"  # the search waiting for the citizen's location
UNMET_TOPIC_SLOT = "unmet_topic"  # what a search could not find, offered for registration

_HEADINGS = {"course": "search_results", "space": "spaces_results", "event": "events_results"}


def show_page(turn: Turn, page: SearchPage) -> list[EventType]:
    """Reply with one page of results (or a kind "nothing found"), remember the search."""
    state = page.state
    events: list[EventType] = [SlotSet(LAST_SEARCH_SLOT, state.as_slot())]
    if page.unmet:
        search_flow.record_unmet(state, turn.language, turn.sender)
        topic = state.topic or state.query
        message = "no_results_nearby" if state.near else "no_results"
        buttons = (
            turn.buttons([("button_yes_register", search_flow.register_payload(topic))])
            if topic
            else []
        )
        turn.reply(turn.say(message, query=topic or "…"), buttons=buttons)
        return [*events, SlotSet(UNMET_TOPIC_SLOT, topic or None)]
    if not page.results:
        cheaper_first_page = state.cheaper_than is not None and state.offset == 0
        turn.reply(turn.say("no_cheaper_results" if cheaper_first_page else "no_more_results"))
        return events
    if state.cheaper_than is not None and not state.near:
        heading = turn.say("cheaper_results")
    elif page.relaxed:
        search_flow.record_unmet(state, turn.language, turn.sender)
        heading = turn.say("relaxed_results", query=state.topic or state.query)
    elif state.near and page.dates_missed and (span := event_dates.span_from_slot(state.dates)):
        heading = _dates_heading(turn, page, span)  # none on those dates nearby: said first
    elif state.near and (widened := page.noted("widened")):
        # The radius grew (3 km found nothing): say how far these are looked for.
        heading = turn.say(
            "nearby_widened_results",
            first=f"{widened.values['from_m'] / 1000:g}",
            km=f"{widened.values['radius_m'] / 1000:g}",
        )
    elif state.near:
        heading = turn.say("nearby_results")
    elif span := event_dates.span_from_slot(state.dates):
        heading = _dates_heading(turn, page, span)
    elif page.browsing or not state.query:
        heading = turn.say(_HEADINGS[state.kind] if state.kind != "course" else "browse_results")
    else:
        heading = turn.say("search_results", query=state.query)
    turn.reply(
        heading,
        cards=[search_flow.card(result) for result in page.results],
        buttons=turn.buttons(search_flow.follow_up_payloads(page)),
    )
    return [*events, SlotSet(UNMET_TOPIC_SLOT, None)]


def _dates_heading(turn: Turn, page: SearchPage, span: DateSpan) -> str:
    """Say the dates understood, so a wrong reading shows at once; and when nothing falls on
    them, that these are the next events, or the topic's courses at other dates."""
    state, when = page.state, event_dates.describe(span, turn.language)
    if state.kind == "event":
        return turn.say("no_events_on_dates" if page.dates_missed else "events_on_dates", when=when)
    query = state.query or state.topic
    if not query:
        return turn.say("browse_results" if page.dates_missed else "courses_on_dates", when=when)
    message = "no_courses_on_dates" if page.dates_missed else "search_results_on_dates"
    return turn.say(message, query=query, when=when)


def ask_for_location(turn: Turn, pending: SearchState) -> list[EventType]:
    turn.reply(turn.say("request_location"), request_location=True)
    return [SlotSet(PENDING_NEAR_SLOT, pending.as_slot())]


class _SearchAction(LearncityAction):
    kind = "course"

    async def respond(self, turn: Turn) -> list[EventType]:
        previous = SearchState.from_slot(turn.tracker.get_slot(LAST_SEARCH_SLOT))
        pending = SearchState.from_slot(turn.tracker.get_slot(PENDING_NEAR_SLOT))
        topic_named = search_flow.first_entity(turn.entities, "topic") is not None
        cheaper = follow_up.asks_cheaper(turn.entities)
        closer = follow_up.asks_closer(turn.text)
        # "cheaper?" and "closer to me" continue the last search whatever intent they got.
        refining = turn.intent == "inform" or (not topic_named and (cheaper or closer))
        if refining and pending is not None:
            previous = pending  # "in Nanhu" answers "share your location or name your district"
        if (
            refining
            and previous is not None
            and not topic_named
            and (closer or search_flow.is_near_me(turn.text, turn.entities))
        ):
            return ask_for_location(turn, follow_up.around_the_citizen(previous, turn.entities))
        if closer or search_flow.is_near_me(turn.text, turn.entities):
            wanted = search_flow.plan_search(
                self.kind, text=None, entities=turn.entities, previous=None
            ) or SearchState(kind=self.kind)
            typed = search_flow.strip_near_me(turn.text)
            if closer or (self.kind != "course" and not knowledge.names_a_topic(typed)):
                typed = ""  # "learning spaces near me": the nearest spaces are the answer
            span = event_dates.dates_named(turn.text) if wanted.kind in DATED_KINDS else None
            return ask_for_location(
                turn,
                SearchState(
                    kind=wanted.kind,
                    query=wanted.query or typed,
                    topic=wanted.topic,
                    filters=wanted.filters,
                    dates=event_dates.span_as_slot(span) if span else None,
                ),
            )
        kind = self.kind
        if refining and previous is None and not topic_named and event_dates.dates_named(turn.text):
            kind = "event"  # "¿qué hay este fin de semana?" with nothing asked before: what's on
        state = search_flow.plan_search(
            kind,
            text=turn.text,
            entities=turn.entities,
            previous=previous,
            refine_previous=refining,
        )
        if state is None or (refining and previous is None and _names_nothing(state)):
            turn.reply(turn.say("ask_what_to_learn"))  # "cheaper?" before any search
            return []
        if cheaper and previous is not None and not topic_named:
            state = follow_up.refine_cheaper(state, previous, turn.language)
        if state.kind == "space" and not (state.query or state.filters or state.near):
            return ask_for_location(turn, state)  # "learning spaces": nearest ones are the answer
        page = follow_up.page_for(state, turn.language)
        return [*show_page(turn, page), SlotSet(PENDING_NEAR_SLOT, None)]


def _names_nothing(state: SearchState) -> bool:
    """A course search with no topic and no filter: only the citizen's follow-up words."""
    return state.kind == "course" and state.topic is None and not state.filters


class ActionSearchCourses(_SearchAction):
    """search_course, and bare answers (`inform`) that refine the previous search."""

    kind = "course"

    def name(self) -> str:
        return "action_search_courses"


class ActionFindLearningSpaces(_SearchAction):
    kind = "space"

    def name(self) -> str:
        return "action_find_learning_spaces"


class ActionListEvents(_SearchAction):
    kind = "event"

    def name(self) -> str:
        return "action_list_events"


class ActionShowMore(LearncityAction):
    def name(self) -> str:
        return "action_show_more"

    async def respond(self, turn: Turn) -> list[EventType]:
        previous = SearchState.from_slot(turn.tracker.get_slot(LAST_SEARCH_SLOT))
        if previous is None:
            turn.reply(turn.say("nothing_to_refine"))
            return []
        return show_page(turn, follow_up.page_for(search_flow.next_page(previous), turn.language))


class ActionRequestLocation(LearncityAction):
    """Ask for the citizen's location; the pending search runs when `share_location` arrives."""

    def name(self) -> str:
        return "action_request_location"

    async def respond(self, turn: Turn) -> list[EventType]:
        pending = SearchState.from_slot(turn.tracker.get_slot(PENDING_NEAR_SLOT))
        return ask_for_location(turn, pending or SearchState(kind="space"))


class ActionSearchNearby(LearncityAction):
    """share_location: run the pending (or last) search around the shared point."""

    def name(self) -> str:
        return "action_search_nearby"

    async def respond(self, turn: Turn) -> list[EventType]:
        point = _shared_point(turn)
        if point is None:
            return ask_for_location(turn, SearchState(kind="space"))
        pending = SearchState.from_slot(turn.tracker.get_slot(PENDING_NEAR_SLOT))
        base = pending or SearchState(kind="space")
        state = replace(base, near=point, offset=0)
        return [
            *show_page(turn, follow_up.page_for(state, turn.language)),
            SlotSet(PENDING_NEAR_SLOT, None),
        ]


def _shared_point(turn: Turn) -> tuple[float, float] | None:
    values = {entity.get("entity"): entity.get("value") for entity in turn.entities}
    try:
        latitude, longitude = float(values["latitude"]), float(values["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude
