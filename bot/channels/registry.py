"""Which channels the gateway serves and which can push messages, decided by the settings.

A channel module offers up to two things:
- `webhook_routes(conversation, settings) -> list[BaseRoute]`: HTTP endpoints it adds to the
  gateway (webhooks), empty when the channel is not configured; the web chat is always on.
- `lifespan(conversation, settings) -> AbstractAsyncContextManager | None`: work that runs while
  the gateway runs (Telegram long polling, registering a webhook), or None.
- `sender(settings) -> ChannelSender | None`: a way to push replies to a citizen outside a
  conversation turn (broadcasts, slow WeChat answers), or None when not configured.
"""

from __future__ import annotations

import importlib
import logging
from contextlib import AbstractAsyncContextManager
from types import ModuleType
from typing import Protocol

from starlette.routing import BaseRoute

from bot.conversation import Conversation
from bot.messages import Reply
from core.settings import Settings

logger = logging.getLogger(__name__)

# Channel modules, each optional: `routes(conversation, settings)` and/or `sender(settings)`.
CHANNEL_MODULES = ("bot.channels.telegram", "bot.channels.wechat", "bot.channels.web")


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
    for module in _channel_modules():
        factory = getattr(module, "webhook_routes", None)
        if factory is not None:
            routes.extend(factory(conversation, settings))
    return routes


def configured_lifespans(
    conversation: Conversation, settings: Settings
) -> list[AbstractAsyncContextManager[object]]:
    """Background work of every configured channel, entered when the gateway starts."""
    lifespans = []
    for module in _channel_modules():
        factory = getattr(module, "lifespan", None)
        context = factory(conversation, settings) if factory is not None else None
        if context is not None:
            lifespans.append(context)
    return lifespans


def configured_senders(settings: Settings) -> dict[str, ChannelSender]:
    """Push senders by channel name, for every configured channel."""
    senders: dict[str, ChannelSender] = {}
    for module in _channel_modules():
        factory = getattr(module, "sender", None)
        channel_sender = factory(settings) if factory is not None else None
        if channel_sender is not None:
            senders[channel_sender.channel] = channel_sender
    return senders


def _channel_modules() -> list[ModuleType]:
    modules = []
    for name in CHANNEL_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return modules
