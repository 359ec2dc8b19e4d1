"""The gateway: one Starlette app serving every channel in front of one `Conversation`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from bot.admin.routes import admin_routes
from bot.channels.base import Channel
from bot.channels.web import WebChannel
from bot.conversation import Conversation
from bot.edge import EdgeMiddleware
from bot.health import HealthMonitor, health_routes
from nlu.language import load_models as load_language_models

logger = logging.getLogger(__name__)


def create_app(
    conversation: Conversation,
    channels: Sequence[Channel] | None = None,
    health: HealthMonitor | None = None,
) -> Starlette:
    """Build the app around channels built once (`bot.channels.configured.build_channels`).

    Without `channels` the gateway serves the web chat alone. The channels are kept on
    `app.state.channels` by name, so the process that built the app can reach their senders.
    `health` judges readiness (bot/health.py); by default, of the conversation's Rasa servers."""
    channels = list(channels) if channels is not None else [WebChannel(conversation)]
    health = health or HealthMonitor.for_conversation(conversation)

    routes: list[BaseRoute] = health_routes(health)
    for channel in channels:
        routes.extend(channel.routes())
    # The staff console (bot/admin): its health page shows the same monitor and channels, and
    # organizers send announcements through these channels' senders.
    routes.append(
        admin_routes(
            conversation.database_url,
            health,
            [channel.name for channel in channels],
            senders=lambda: {channel.name: channel.sender() for channel in channels},
        )
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            # The language models (about 195 MB, 3 s of CPU) load before the first turn. Loaded
            # on first use, they loaded in the first "try again", refusal or WeChat reply: a
            # stall of the event loop for every citizen on this gateway, when Rasa is already
            # slow (the cluster bench counted it as 4 ms of gateway CPU per message).
            await asyncio.to_thread(load_language_models)
            async with contextlib.AsyncExitStack() as stack:
                for channel in channels:
                    await stack.enter_async_context(channel.running())
                yield
        finally:
            health.close()
            await conversation.close()

    # Body caps, JSON depth and security headers before any route (bot/edge.py).
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(EdgeMiddleware)])
    app.state.channels = {channel.name: channel for channel in channels}
    return app
