"""How learncity's replies look on Telegram: text, inline buttons, venues, the location keyboard.

One reply becomes one text message (its text, then its cards as short lines) carrying its
buttons as an inline keyboard, followed by map pins (`sendVenue`) for up to three places when
the reply answers "where" (cards with a distance, or learning spaces). Course lists stay one
message so a search does not flood the chat. Replies are plain text: nothing a catalog or a
citizen wrote is ever parsed as markup.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import Forbidden, RetryAfter

from bot.channels.base import PlatformBusyError, RecipientUnreachableError
from bot.channels.card_text import card_lines, distance_text, in_language
from bot.channels.telegram_lanes import SendLanes
from bot.messages import Card, Reply
from bot.text_split import split_text, utf16_length
from citizens import mark_reachable, mark_unreachable
from core.database import session_scope

logger = logging.getLogger(__name__)

MESSAGE_LIMIT_UTF16 = 4096  # Telegram counts message length in UTF-16 code units
CALLBACK_DATA_LIMIT_BYTES = 64
MAX_VENUES_PER_REPLY = 3
_STORED_PAYLOAD_PREFIX = "#"  # payloads start with "/", so "#" marks a key into the map

SHARE_LOCATION = {
    "zh": "📍 发送我的位置",
    "en": "📍 Share my location",
    "es": "📍 Compartir mi ubicación",
    "fr": "📍 Partager ma position",
    "ar": "📍 مشاركة موقعي",
    "ru": "📍 Отправить моё местоположение",
    "uk": "📍 Надіслати моє місцезнаходження",
}
BUTTON_EXPIRED = {
    "zh": "这个按钮已过期，请再问一次。",
    "en": "This button has expired. Please ask again.",
    "es": "Este botón ha caducado. Vuelve a preguntar, por favor.",
    "fr": "Ce bouton a expiré. Posez à nouveau votre question, s'il vous plaît.",
    "ar": "انتهت صلاحية هذا الزر. يُرجى السؤال مرة أخرى.",
    "ru": "Эта кнопка устарела. Пожалуйста, спросите ещё раз.",
    "uk": "Ця кнопка застаріла. Будь ласка, запитайте ще раз.",
}


class CallbackPayloads:
    """Button payloads as Telegram callback data (at most 64 bytes).

    Short payloads travel as they are. Longer ones (a search with several entities) are kept
    here under a short hash key; the map is bounded, so a very old button may expire, and the
    citizen is then asked to ask again.
    """

    def __init__(self, max_size: int = 20_000) -> None:
        self.max_size = max_size
        self._stored: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        if (
            len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT_BYTES
            and payload
            and not payload.startswith(_STORED_PAYLOAD_PREFIX)
        ):
            return payload
        key = _STORED_PAYLOAD_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
        self._stored[key] = payload
        self._stored.move_to_end(key)
        while len(self._stored) > self.max_size:
            self._stored.popitem(last=False)
        return key

    def decode(self, data: str | None) -> str | None:
        """The payload behind a button's callback data; None when it expired."""
        if not data:
            return None
        if data.startswith(_STORED_PAYLOAD_PREFIX):
            return self._stored.get(data)
        return data


class Reachability:
    """Marks citizens unreachable when they block the bot and reachable when they write again.

    Remembers (bounded) who was already seen reachable in this process, so a message costs no
    database round trip after a citizen's first one.
    """

    def __init__(self, database_url: str | None, max_size: int = 50_000) -> None:
        self.database_url = database_url
        self.max_size = max_size
        self._known_reachable: OrderedDict[str, None] = OrderedDict()

    async def citizen_wrote(self, sender_id: str) -> None:
        if sender_id in self._known_reachable:
            self._known_reachable.move_to_end(sender_id)
            return
        await asyncio.to_thread(self._store, mark_reachable, sender_id)
        self._known_reachable[sender_id] = None
        while len(self._known_reachable) > self.max_size:
            self._known_reachable.popitem(last=False)

    async def citizen_blocked(self, sender_id: str) -> None:
        self._known_reachable.pop(sender_id, None)
        await asyncio.to_thread(self._store, mark_unreachable, sender_id)
        logger.info("telegram citizen %s blocked the bot; marked unreachable", sender_id)

    def _store(self, change: Callable[[Any, str], None], sender_id: str) -> None:
        with session_scope(self.database_url) as session:
            change(session, sender_id)


class TelegramRenderer:
    """Sends replies to one chat through a Bot; a 403 marks the citizen unreachable."""

    def __init__(
        self,
        bot: Bot,
        reachability: Reachability,
        payloads: CallbackPayloads,
        lanes: SendLanes | None = None,
        *,
        wait_when_rate_limited: bool = True,
        paid_broadcast: bool = False,
    ) -> None:
        self.bot = bot
        self.reachability = reachability
        self.payloads = payloads
        self.lanes = lanes if lanes is not None else SendLanes()
        # Broadcast workers share one rate limit: a 429 must pause all of them, so it is raised
        # (PlatformBusyError) instead of waited out here for one chat.
        self.wait_when_rate_limited = wait_when_rate_limited
        self.paid_broadcast = paid_broadcast

    async def send_replies(
        self,
        chat_id: int,
        replies: list[Reply],
        *,
        language_hint: str | None = None,
        remove_location_keyboard: bool = False,
    ) -> None:
        """Render every reply in order; raises RecipientUnreachableError if the citizen blocked us."""
        remove = remove_location_keyboard
        for reply in replies:
            language = reply.language or language_hint
            for kind, arguments in self._messages_for(reply, language):
                if remove and arguments.get("reply_markup") is None:
                    arguments["reply_markup"] = ReplyKeyboardRemove()
                    remove = False
                await self._call(chat_id, kind, arguments)

    async def send_text(self, chat_id: int, text: str) -> None:
        await self._call(chat_id, "message", {"text": text})

    def _messages_for(self, reply: Reply, language: str | None) -> list[tuple[str, dict[str, Any]]]:
        """The Bot API calls (kind, arguments) that show one reply."""
        body = "\n\n".join(part for part in (reply.text, card_lines(reply.cards, language)) if part)
        inline = self._inline_keyboard(reply)
        location_keyboard = _location_keyboard(language) if reply.request_location else None
        if not body:
            body = (
                in_language(SHARE_LOCATION, language) if location_keyboard and not inline else "👇"
            )
        pieces = split_text(body, MESSAGE_LIMIT_UTF16, utf16_length) or [body]
        messages: list[tuple[str, dict[str, Any]]] = [
            ("message", {"text": piece, "reply_markup": None}) for piece in pieces
        ]
        messages[-1][1]["reply_markup"] = inline or location_keyboard
        if inline and location_keyboard:
            label = in_language(SHARE_LOCATION, language)
            messages.append(("message", {"text": label, "reply_markup": location_keyboard}))
        for card in _venue_cards(reply.cards):
            venue = {
                "latitude": card.latitude,
                "longitude": card.longitude,
                "title": card.name[:128],
                "address": (card.place or distance_text(card.distance_m) or card.name)[:256],
                "reply_markup": None,
            }
            messages.append(("venue", venue))
        return messages

    def _inline_keyboard(self, reply: Reply) -> InlineKeyboardMarkup | None:
        if not reply.buttons:
            return None
        rows = [
            [
                InlineKeyboardButton(
                    button.title[:64], callback_data=self.payloads.encode(button.payload)
                )
            ]
            for button in reply.buttons
        ]
        return InlineKeyboardMarkup(rows)

    async def _call(self, chat_id: int, kind: str, arguments: dict[str, Any]) -> None:
        send = self.bot.send_venue if kind == "venue" else self.bot.send_message
        if self.paid_broadcast:
            arguments = {**arguments, "allow_paid_broadcast": True}
        for attempt in range(2):
            try:
                await self.lanes.send(chat_id, send, arguments)
                return
            except Forbidden as error:
                await self.reachability.citizen_blocked(f"telegram:{chat_id}")
                raise RecipientUnreachableError(
                    f"telegram chat {chat_id}: {error.message}"
                ) from error
            except RetryAfter as error:
                seconds = _seconds(error.retry_after)
                if attempt or not self.wait_when_rate_limited:
                    raise PlatformBusyError(
                        f"telegram asks to wait {seconds:g} s (429)", seconds
                    ) from error
                # Telegram asks us to slow down for this chat; wait once, then retry.
                await asyncio.sleep(seconds)


def _venue_cards(cards: list[Card]) -> list[Card]:
    """Places worth a map pin: answers to "where" (a distance is known, or it is a space)."""
    placed = [
        card
        for card in cards
        if card.latitude is not None
        and card.longitude is not None
        and (card.distance_m is not None or card.type == "space")
    ]
    return placed[:MAX_VENUES_PER_REPLY]


def _location_keyboard(language: str | None) -> ReplyKeyboardMarkup:
    button = KeyboardButton(in_language(SHARE_LOCATION, language), request_location=True)
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
