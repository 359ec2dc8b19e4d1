"""The one reply format: what actions send is exactly what the gateway reads back."""

from __future__ import annotations

import json
import subprocess
import sys

from core.replies import JSON_KEY, Button, Card, Reply
from core.settings import REPOSITORY_ROOT

POTTERY = Card(
    id="course-7",
    type="course",
    name="Pottery for beginners",
    place="Nanhu Arts Centre",
    schedule="Sat 10:00",
    free=True,
    distance_m=420.0,
    latitude=31.2,
    longitude=121.4,
    url="https://example.org/pottery",
)


def test_a_reply_survives_the_trip_through_rasa_as_json() -> None:
    sent = Reply(
        text="周末的陶艺课：",
        buttons=[Button("更多", "/show_more")],
        cards=[POTTERY],
        request_location=True,
        language="zh",
    )
    # What rasa-sdk puts in `custom` and Rasa's REST channel hands the gateway, as JSON.
    item = json.loads(json.dumps({"recipient_id": "web:1", "custom": {JSON_KEY: sent.to_json()}}))
    assert Reply.from_rasa(item) == sent


def test_erase_is_carried_to_the_gateway_but_never_shown_to_clients() -> None:
    forget = Reply(text="Done.", erase_conversation=True)
    assert Reply.from_json(forget.to_json()).erase_conversation is True
    assert "erase_conversation" not in forget.as_dict()


def test_plain_rasa_text_and_buttons_read_as_a_reply() -> None:
    item = {"text": "Hi", "buttons": [{"title": "Help", "payload": "/help"}]}
    assert Reply.from_rasa(item) == Reply(text="Hi", buttons=[Button("Help", "/help")])


def test_unknown_card_fields_are_ignored_so_both_sides_can_grow() -> None:
    data = POTTERY.to_json() | {"rating": 5}
    assert Card.from_json(data) == POTTERY


def test_the_format_imports_nothing_from_learncity() -> None:
    """Actions (the action server) and the gateway import it; it must pull in neither."""
    code = (
        "import sys, core.replies; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('bot', 'actions', 'nlu', 'knowledge', 'citizens') or m.startswith('core.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "['core.replies']"
