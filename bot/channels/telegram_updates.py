"""Updates python-telegram-bot cannot build, reduced to what the channel reads.

The library builds an `Update` from Telegram's JSON and refuses one whose objects lack a field
it requires (an older or self-hosted Bot API server, or a library newer than the server:
`Poll` wants `allows_revoting` "since Bot API 9.6"). Refused, a webhook update was answered
400, so Telegram delivered it again and again; over long polling one such update stopped the
bot for everyone (getUpdates asked again for the same batch, about a hundred times a second,
and answered no one). Such an update is reduced here to what the channel reads (who, which
chat, the text, caption or location, a button's data): the citizen is answered (a text as
usual, anything else with the note that only text and locations are read), and the rest of
the update is skipped with one log line naming the field the library missed.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Update
from telegram.request import HTTPXRequest, RequestData

logger = logging.getLogger(__name__)

_MESSAGE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")
_MESSAGE_FIELDS = ("message_id", "date", "chat", "from", "text", "caption", "location")
_CALLBACK_FIELDS = ("id", "from", "chat_instance", "data", "inline_message_id")
_PARSE_ERRORS = (TypeError, ValueError, KeyError, AttributeError)


def build_update(data: dict[str, Any], bot: Bot | None) -> Update | None:
    """The update as the library builds it, or built from its reduced form when it cannot."""
    try:
        return Update.de_json(data, bot)
    except _PARSE_ERRORS as error:
        return Update.de_json(_reduced(data, error), bot)


def readable_update(data: dict[str, Any]) -> dict[str, Any]:
    """The update's JSON itself when the library can build it, else its reduced form."""
    try:
        Update.de_json(data, None)
    except _PARSE_ERRORS as error:
        return _reduced(data, error)
    return data


class ReadableUpdatesRequest(HTTPXRequest):
    """The long-polling connection: hands the library only updates it can build."""

    async def post(
        self, url: str, request_data: RequestData | None = None, **timeouts: Any
    ) -> dict[str, Any] | list[dict[str, Any]] | bool:
        result = await super().post(url, request_data, **timeouts)
        if url.endswith("/getUpdates") and isinstance(result, list):
            return [readable_update(update) for update in result]
        return result


def _reduced(data: dict[str, Any], error: Exception) -> dict[str, Any]:
    """What the channel reads of an update the library could not build; only its id when
    even that cannot be built (it is then acknowledged and skipped)."""
    update_id = data.get("update_id")
    kind = next((key for key in data if key != "update_id"), "nothing")
    logger.warning(
        "telegram: update %s (%s) could not be read by python-telegram-bot (%s: %s); "
        "answering from its text, caption or location only",
        update_id,
        kind,
        type(error).__name__,
        str(error)[:200],
    )
    content = data.get(kind)
    reduced: dict[str, Any] = {"update_id": update_id}
    if isinstance(content, dict) and kind in _MESSAGE_KINDS:
        reduced[kind] = _only(content, _MESSAGE_FIELDS)
    elif isinstance(content, dict) and kind == "callback_query":
        reduced[kind] = _only(content, _CALLBACK_FIELDS)
        if isinstance(content.get("message"), dict):
            reduced[kind]["message"] = _only(content["message"], _MESSAGE_FIELDS)
    try:
        Update.de_json(reduced, None)
    except _PARSE_ERRORS:
        return {"update_id": update_id}
    return reduced


def _only(content: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: content[name] for name in fields if name in content}
