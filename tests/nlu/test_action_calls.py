"""What the Rasa server sends the action server: this turn's events, the rest of the state intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nlu.rasa_venv import run_in_rasa_venv

CHECKS = Path(__file__).with_name("action_call_checks.py")


@pytest.fixture(scope="module")
def seen() -> dict:
    return run_in_rasa_venv(CHECKS)


def test_an_action_receives_the_events_from_the_latest_user_message_on(seen: dict) -> None:
    assert seen["events_before"] == [
        "action", "user", "slot", "action", "bot", "action", "user", "slot",
    ]  # fmt: skip
    assert seen["events_after"] == ["user", "slot"]


def test_slots_latest_message_and_the_rest_of_the_request_are_unchanged(seen: dict) -> None:
    assert seen["same_state_but_events"] is True
    assert seen["same_body_but_tracker"] is True
    assert (seen["district_slot"], seen["language_slot"]) == ("Nanhu", "en")
    assert seen["latest_text"] == "in Nanhu"


def test_the_action_server_connection_is_kept_open_between_calls(seen: dict) -> None:
    assert seen["session_kept_open"] is True
    assert seen["closed_session_replaced"] is True
