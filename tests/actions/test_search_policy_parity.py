"""`learncity search` shows what the chat shows: for the same question, the chat's search
action (run for real on the sample city's database and index) and the command line (a real
subprocess on the same data folder) give the same cards, in the same order, at the same
distances, and the command line prints the fallback the chat says aloud."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Turn
from actions.messages import say
from actions.search_actions import (
    LAST_SEARCH_SLOT,
    PENDING_NEAR_SLOT,
    ActionFindLearningSpaces,
    ActionListEvents,
    ActionSearchCourses,
    ActionSearchNearby,
)
from actions.search_flow import SearchState
from core.replies import JSON_KEY
from tests.knowledge.search_support import learncity_search

PEOPLES_SQUARE = (31.23, 121.47)  # the nearest pottery class is 5.2 km away


def _entity(text: str, name: str, value: str, written: str | None = None) -> dict[str, Any]:
    start = text.index(written or value)
    return {"entity": name, "value": value, "start": start, "end": start + len(written or value)}


def _run(action: Any, message: dict[str, Any], slots: dict[str, Any], language: str) -> Turn:
    tracker = Tracker("parity", slots, message, [], False, None, {}, "action_listen")
    turn = Turn(tracker=tracker, dispatcher=CollectingDispatcher(), language=language)
    turn.events.extend(asyncio.run(action.respond(turn)))
    return turn


def _reply(turn: Turn) -> dict[str, Any]:
    (message,) = turn.dispatcher.messages
    return message["custom"][JSON_KEY]


def _slot(turn: Turn, name: str) -> Any:
    values = [e.get("value") for e in turn.events if e.get("event") == "slot" and e["name"] == name]
    return values[-1]


def _chat(
    action: Any, text: str, entities: list[dict[str, Any]], language: str
) -> tuple[dict[str, Any], SearchState]:
    turn = _run(action, {"text": text, "intent": {"name": "x"}, "entities": entities}, {}, language)
    if turn.events and _pending(turn) is not None:  # asked for the location: share it
        shared = {
            "text": "/share_location",
            "intent": {"name": "share_location"},
            "entities": [
                {"entity": "latitude", "value": PEOPLES_SQUARE[0]},
                {"entity": "longitude", "value": PEOPLES_SQUARE[1]},
            ],
        }
        turn = _run(ActionSearchNearby(), shared, {PENDING_NEAR_SLOT: _pending(turn)}, language)
    state = SearchState.from_slot(_slot(turn, LAST_SEARCH_SLOT))
    assert state is not None
    return _reply(turn), state


def _pending(turn: Turn) -> dict[str, Any] | None:
    events = [e for e in turn.events if e.get("event") == "slot" and e["name"] == PENDING_NEAR_SLOT]
    return events[-1]["value"] if events else None


def _cli(state: SearchState, language: str, dates: str | None, data_dir: Path) -> dict[str, Any]:
    """`learncity search` with the options that say what the chat's search state holds."""
    filters = state.filters
    arguments = [state.query or "", "--kind", state.kind, "--asked-in", language]
    if state.question:
        arguments += ["--question", state.question]
    if not state.topic:
        arguments.append("--no-topic")
    if state.near:
        arguments += ["--near", f"{state.near[0]},{state.near[1]}"]
    if filters.get("time_of_day"):
        arguments += ["--when", filters["time_of_day"]]
    if filters.get("free_only"):
        arguments.append("--free")
    for name in ("audience", "district"):
        if filters.get(name):
            arguments += [f"--{name}", filters[name]]
    if dates:
        arguments += ["--dates", dates]
    return learncity_search(arguments, data_dir, LEARNCITY_LOG_LEVEL="WARNING")


# (action, language, text, entities as (name, value, written), dates named, note expected,
#  message the chat's heading says)
CASES = [
    (ActionSearchCourses, "en", "where can I learn pottery?", [("topic", "pottery", None)],
     None, None, ("search_results", {"query": "pottery"})),
    (ActionSearchCourses, "en", "guitar lessons at weekends",
     [("topic", "guitar", None), ("schedule", "weekend", "weekends")],
     None, "relaxed", ("relaxed_results", {"query": "guitar"})),
    (ActionSearchCourses, "en", "pottery near me", [("topic", "pottery", None)],
     None, "widened", ("nearby_widened_results", {"first": "3", "km": "10"})),
    (ActionSearchCourses, "en", "pottery near me this weekend", [("topic", "pottery", None)],
     "this weekend", "widened", ("nearby_widened_results", {"first": "3", "km": "10"})),
    (ActionListEvents, "en", "what's on this weekend?", [],
     "this weekend", None, None),
    (ActionListEvents, "en", "welcome fair this weekend", [("topic", "welcome fair", None)],
     "this weekend", "dates_missed", None),
    (ActionSearchCourses, "fr", "cours de python demain", [("topic", "python", None)],
     "demain", "dates_missed",
     ("no_courses_on_dates", {"query": "python", "when": "demain, 2 décembre"})),
    (ActionFindLearningSpaces, "es", "¿hay piscinas cubiertas?", [],
     None, "browsing", ("spaces_results", {})),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "language", "text", "entities", "dates", "note", "heading"),
    CASES,
    ids=[case[2] for case in CASES],
)
def test_the_command_line_shows_what_the_chat_shows(
    sample_city: str,
    sample_city_folder: Path,
    pinned_today: date,
    action: Any,
    language: str,
    text: str,
    entities: list[tuple[str, str, str | None]],
    dates: str | None,
    note: str | None,
    heading: tuple[str, dict[str, str]] | None,
) -> None:
    reply, state = _chat(
        action(), text, [_entity(text, name, value, written) for name, value, written in entities],
        language,
    )  # fmt: skip
    shown = _cli(state, language, dates, sample_city_folder)  # LEARNCITY_TODAY as pinned

    chat_cards = [(card["id"], card["distance_m"]) for card in reply["cards"]]
    cli_cards = [(row["id"], row["distance_m"]) for row in shown["results"]]
    assert chat_cards == cli_cards
    assert chat_cards  # something is shown: the comparison is not of two empty lists
    notes = [row["note"] for row in shown["notes"]]
    assert notes == ([note] if note else [])
    if heading is not None:
        message, values = heading
        assert reply["text"] == say(message, language, **values)
