"""The internal message every channel speaks: one shape in, one shape out.

Channels turn their platform's input into an `IncomingMessage` and render each `Reply`
in their platform's native way; nothing else in learncity knows about channels. `Reply`,
`Card` and `Button` are defined once in `core.replies` (actions build them too) and
re-exported here for the channels.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from core.replies import Button, Card, Reply

__all__ = [
    "SHARE_LOCATION_INTENT",
    "Button",
    "Card",
    "IncomingMessage",
    "Location",
    "Reply",
    "readable_text",
]

# The intent Rasa receives when a citizen shares a point (bypasses NLU, carries entities).
SHARE_LOCATION_INTENT = "share_location"


# Zero-width spaces, direction marks (RTL clients add them around text), word joiners and byte
# order marks: invisible, and noise to the NLU. Joiners inside words and emoji stay (U+200C/D).
_INVISIBLE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def readable_text(text: str) -> str:
    """What a typed message says without invisible characters; "" when nothing is visible."""
    text = _INVISIBLE.sub("", text).strip()
    visible = any(char.isprintable() and not char.isspace() for char in text)
    return text if visible else ""


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class IncomingMessage:
    """One thing a citizen sent: text, a shared location, or a button press."""

    sender_id: str  # namespaced per channel: "telegram:123", "wechat:oABC", "web:uuid"
    channel: str
    text: str | None = None
    location: Location | None = None
    payload: str | None = None  # a button's payload, e.g. '/search_course{"topic": "python"}'
    language_hint: str | None = None  # the client's language (Telegram language_code, browser)
    message_id: str | None = None

    def rasa_text(self) -> str:
        """What Rasa should read: a button payload, a location as an intent, or the text."""
        if self.payload:
            return self.payload
        if self.location is not None:
            entities = {"latitude": self.location.latitude, "longitude": self.location.longitude}
            return f"/{SHARE_LOCATION_INTENT}{json.dumps(entities)}"
        return readable_text(self.text or "")

    def metadata(self) -> dict[str, Any]:
        """Metadata passed to Rasa so actions know the channel and the client's language."""
        return {"channel": self.channel, "language_hint": self.language_hint}
