"""What a channel is to the gateway: routes, work while it runs, and a way to push replies.

Channels are objects built once per gateway (`bot.channels.configured.build_channels`) and
handed to the app; nothing finds them by name and no module keeps live ones. This module
imports no channel and no conversation, so the broadcasts can use `ChannelSender` and
`RecipientUnreachableError` without pulling the gateway in (no import cycle).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from starlette.routing import BaseRoute

from core.replies import Reply


class RecipientUnreachableError(RuntimeError):
    """The platform says the citizen cannot be reached (blocked the bot, unfollowed)."""


class PlatformBusyError(RuntimeError):
    """The platform refused a send for now (Telegram's 429): nothing was shown; the sender's
    whole bot should wait `retry_after` seconds before sending again."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelSender(Protocol):
    """Pushes replies to a citizen outside a conversation turn (broadcasts, late answers)."""

    channel: str

    async def send(self, recipient_id: str, replies: list[Reply]) -> None:
        """Deliver replies to one citizen (`recipient_id` without the channel prefix)."""
        ...

    async def close(self) -> None:
        """Release connections; the sender is not used afterwards."""
        ...


class Channel(Protocol):
    """One platform in front of the gateway's `Conversation`."""

    name: str  # the sender-id prefix: "web", "telegram", "wechat"

    def routes(self) -> list[BaseRoute]:
        """HTTP endpoints the gateway serves for it (webhooks, the web chat's API)."""
        ...

    def running(self) -> AbstractAsyncContextManager[None]:
        """Work for as long as the gateway runs (polling, registering a webhook, draining)."""
        ...

    def sender(self) -> ChannelSender:
        """A sender sharing this channel's connections and state (e.g. WeChat's numbered choices)."""
        ...
