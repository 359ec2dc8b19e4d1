"""Deprecated: kept only until bot/broadcasts.py and bot/broadcast_cli.py import the new homes.

`RecipientUnreachableError` and `ChannelSender` live in `bot.channels.base`,
`configured_senders` in `bot.channels.configured`. Nothing is looked up by name any more.
"""

from __future__ import annotations

from bot.channels.base import ChannelSender, RecipientUnreachableError
from core.settings import Settings

__all__ = ["ChannelSender", "RecipientUnreachableError", "configured_senders"]


def configured_senders(settings: Settings) -> dict[str, ChannelSender]:
    """See `bot.channels.configured.configured_senders` (imported here lazily: no cycle)."""
    from bot.channels.configured import configured_senders as build

    return build(settings)
