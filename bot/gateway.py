"""The gateway: one Starlette app serving every channel in front of one `Conversation`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels import web
from bot.conversation import Conversation
from nlu.serving import is_up

logger = logging.getLogger(__name__)

ChannelRoutes = Callable[[Conversation], list[BaseRoute]]


def create_app(
    conversation: Conversation,
    extra_channels: list[ChannelRoutes] | None = None,
    background: list[contextlib.AbstractAsyncContextManager[object]] | None = None,
) -> Starlette:
    """Build the app; channels other than the web chat plug in through `extra_channels`."""

    async def health(_: Request) -> Response:
        rasa_up = await asyncio.to_thread(
            lambda: all(is_up(url, "/status") for url in conversation.rasa_urls)
        )
        return JSONResponse({"gateway": "up", "rasa": "up" if rasa_up else "down"})

    routes: list[BaseRoute] = [Route("/health", health)]
    for channel_routes in [web.routes, *(extra_channels or [])]:
        routes.extend(channel_routes(conversation))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for context in background or []:
                await stack.enter_async_context(context)
            yield
        await conversation.close()

    return Starlette(routes=routes, lifespan=lifespan)
