"""A long real conversation through the running stack, and its events as Rasa stored them.

Searches, paging, a learning-need form answered and then refused, subscription and "forget
me" questions answered no, a shared location, small talk: everything that shapes the
dialogue state, over and over, for the differential tests of the Rasa patches that matter
only when a conversation is long (nlu/policy_history.py, nlu/tracker_copy.py).
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import create_engine, text

CYCLES = 7
LOCATION = '/share_location{"latitude": 31.23, "longitude": 121.47}'


async def _answer_the_form(assistant: Any, sender: str, opening: str) -> None:
    """Answer each question with its first button, then refuse consent."""
    replies = await assistant.talk(sender, opening)
    for _ in range(7):
        payloads = [button.payload for reply in replies for button in reply.buttons]
        if "/deny" in payloads or not payloads:
            break
        replies = await assistant.talk(sender, payload=payloads[0])
    await assistant.talk(sender, payload="/deny")


async def long_conversation_events(assistant: Any, cycles: int = CYCLES) -> list[dict[str, Any]]:
    """Hold a long conversation with the running assistant; return its stored events."""
    sender = f"web:long-{time.monotonic_ns()}"
    for _ in range(cycles):
        await assistant.talk(sender, "hello")
        await assistant.talk(sender, "我想学Python")
        await assistant.talk(sender, "more")
        await _answer_the_form(assistant, sender, "I wish there was a woodworking class in Beishan")
        await assistant.talk(sender, "subscribe to events in Nanhu")
        await assistant.talk(sender, payload="/deny")
        await assistant.talk(sender, "forget me")
        await assistant.talk(sender, payload="/deny")
        await assistant.talk(sender, "find a library near me")
        await assistant.talk(sender, payload=LOCATION)
        await assistant.talk(sender, "what's the weather tomorrow")
        await assistant.talk(sender, "yes")
    engine = create_engine(assistant.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"),
            {"sender": sender},
        ).all()
    engine.dispose()
    return [json.loads(row.data) for row in rows]
