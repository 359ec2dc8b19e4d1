"""The internal message every channel speaks: one shape in, one shape out.

Channels turn their platform's input into an `IncomingMessage` and render each `Reply`
in their platform's native way; nothing else in learncity knows about channels. `Reply`,
`Card` and `Button` are defined once in `core.replies` (actions build them too) and
re-exported here for the channels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.replies import Button, Card, Reply

__all__ = ["SHARE_LOCATION_INTENT", "Button", "Card", "IncomingMessage", "Location", "Reply"]

# The intent Rasa receives when a citizen shares a point (bypasses NLU, carries entities).
SHARE_LOCATION_INTENT = "share_location"


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
        return (self.text or "").strip()

    def metadata(self) -> dict[str, Any]:
        """Metadata passed to Rasa so actions know the channel and the client's language."""
        return {"channel": self.channel, "language_hint": self.language_hint}
