"""The internal message every channel speaks: one shape in, one shape out.

Channels turn their platform's input into an `IncomingMessage` and render each `Reply`
in their platform's native way; nothing else in learncity knows about channels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Card:
    """A catalog item as a citizen sees it in a reply."""

    id: str
    type: str  # course, space, event
    name: str
    place: str = ""
    schedule: str = ""
    free: bool | None = None
    price: str = ""
    distance_m: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    url: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


@dataclass
class Reply:
    """One thing the assistant says; channels render it natively."""

    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    request_location: bool = False
    language: str | None = None
    erase_conversation: bool = (
        False  # set by `forget_me`; the gateway acts on it, channels ignore it
    )

    @classmethod
    def from_rasa(cls, item: dict[str, Any]) -> Reply:
        """Build a reply from one element of Rasa's REST channel response."""
        custom = (item.get("custom") or {}).get("learncity", {}) if item.get("custom") else {}
        return cls(
            text=item.get("text") or custom.get("text", "") or "",
            buttons=[
                Button(title=str(button.get("title", "")), payload=str(button.get("payload", "")))
                for button in item.get("buttons") or custom.get("buttons") or []
            ],
            cards=[Card.from_dict(card) for card in custom.get("cards", [])],
            request_location=bool(custom.get("request_location", False)),
            language=custom.get("language"),
            erase_conversation=bool(custom.get("erase_conversation", False)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "cards": [card.__dict__ for card in self.cards],
            "request_location": self.request_location,
            "language": self.language,
        }
