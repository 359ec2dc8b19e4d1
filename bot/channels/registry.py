"""Which channels the gateway serves and which can push messages, decided by the settings.

A channel module offers up to two things:
- `routes(conversation, settings) -> list[BaseRoute]`: HTTP endpoints it adds to the gateway
  (webhooks); the web chat is always on.
- `sender(settings) -> ChannelSender | None`: a way to push replies to a citizen outside a
  conversation turn (broadcasts, slow WeChat answers), or None when not configured.
"""

from __future__ import annotations

import logging
from typing import Protocol

from starlette.routing import BaseRoute

from bot.conversation import Conversation
from bot.messages import Reply
from core.settings import Settings

logger = logging.getLogger(__name__)


class RecipientUnreachableError(RuntimeError):
    """The platform says the citizen cannot be reached (blocked the bot, unfollowed)."""


class ChannelSender(Protocol):
    channel: str

    async def send(self, recipient_id: str, replies: list[Reply]) -> None:
        """Deliver replies to one citizen (`recipient_id` without the channel prefix)."""
        ...


def configured_routes(conversation: Conversation, settings: Settings) -> list[BaseRoute]:
    """Webhook routes of every channel whose settings are filled in."""
    routes: list[BaseRoute] = []
    return routes


def configured_senders(settings: Settings) -> dict[str, ChannelSender]:
    """Push senders by channel name, for every configured channel."""
    senders: dict[str, ChannelSender] = {}
    return senders
