"""The one reply format: what the assistant says, typed, shared by actions and every channel.

Actions build a `Reply` and send it to Rasa as `{"learncity": reply.to_json()}`; the gateway
reads Rasa's answer back with `Reply.from_rasa` and channels render the dataclasses. This
module imports nothing from learncity (actions run in the Rasa venv, channels in the app's),
so both sides can use it without pulling the other in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# The key actions put their reply under in `utter_message(json_message=...)`.
JSON_KEY = "learncity"


@dataclass(frozen=True)
class Button:
    """A choice the citizen can press: the title they read, the payload Rasa receives."""

    title: str
    payload: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Button:
        return cls(title=str(data.get("title", "")), payload=str(data.get("payload", "")))

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


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
    def from_json(cls, data: Mapping[str, Any]) -> Card:
        """A card from its JSON; unknown keys are ignored so older and newer sides interoperate."""
        known = {item.name: data[item.name] for item in fields(cls) if item.name in data}
        return cls(**known)

    # The name the gateway used before the shared format; kept for callers not yet switched.
    from_dict = from_json

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reply:
    """One thing the assistant says; channels render it natively."""

    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    request_location: bool = False
    language: str | None = None
    # Set by `forget_me`: the gateway erases the conversation; channels ignore it.
    erase_conversation: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reply:
        """A reply from `to_json`'s shape (also the `learncity` object actions send)."""
        return cls(
            text=str(data.get("text") or ""),
            buttons=[Button.from_json(button) for button in data.get("buttons") or []],
            cards=[Card.from_json(card) for card in data.get("cards") or []],
            request_location=bool(data.get("request_location", False)),
            language=data.get("language") or None,
            erase_conversation=bool(data.get("erase_conversation", False)),
        )

    @classmethod
    def from_rasa(cls, item: Mapping[str, Any]) -> Reply:
        """One element of Rasa's REST channel response: plain text and buttons, or our JSON."""
        custom = item.get("custom")
        content = custom.get(JSON_KEY) if isinstance(custom, Mapping) else None
        reply = cls.from_json(content if isinstance(content, Mapping) else {})
        if item.get("text"):
            reply.text = str(item["text"])
        if item.get("buttons"):
            reply.buttons = [Button.from_json(button) for button in item["buttons"]]
        return reply

    def to_json(self) -> dict[str, Any]:
        """Everything a reply holds; `erase_conversation` only when set (it is not for clients)."""
        content = self.as_dict()
        if self.erase_conversation:
            content["erase_conversation"] = True
        return content

    def as_dict(self) -> dict[str, Any]:
        """What a client sees (the web chat API, the outbox): no gateway-only flags."""
        return {
            "text": self.text,
            "buttons": [button.to_json() for button in self.buttons],
            "cards": [card.to_json() for card in self.cards],
            "request_location": self.request_location,
            "language": self.language,
        }

    def is_empty(self) -> bool:
        return not (self.text or self.cards or self.buttons or self.request_location)


def buttons_of(items: Sequence[Button | Mapping[str, Any]]) -> list[Button]:
    """Buttons given as dataclasses or as `{"title", "payload"}` mappings."""
    return [item if isinstance(item, Button) else Button.from_json(item) for item in items]


def cards_of(items: Sequence[Card | Mapping[str, Any]]) -> list[Card]:
    """Cards given as dataclasses or as mappings of their fields."""
    return [item if isinstance(item, Card) else Card.from_json(item) for item in items]
