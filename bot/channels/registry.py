"""Which channels the gateway serves, decided by the settings (the web chat is always on)."""

from __future__ import annotations

import logging

from bot.gateway import ChannelRoutes
from core.settings import Settings

logger = logging.getLogger(__name__)


def configured_channels(settings: Settings) -> list[ChannelRoutes]:
    """Channel route factories for every channel whose settings are filled in."""
    channels: list[ChannelRoutes] = []
    return channels
