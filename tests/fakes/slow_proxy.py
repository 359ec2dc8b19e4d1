"""A slow network in front of a real server: forwards every request after a delay, and counts.

Used to make the real assistant's answers arrive later than WeChat's 5 seconds without
touching learncity's code: the `Conversation` is simply pointed at this proxy's URL. It also
records each JSON body forwarded, so a test can check how often the assistant was asked.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.loopback import LoopbackServer

_HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


class SlowProxy:
    """Forwards to `target_url` after `delay_seconds` (changeable while running)."""

    def __init__(self, target_url: str, delay_seconds: float) -> None:
        self.target_url = target_url.rstrip("/")
        self.delay_seconds = delay_seconds
        self.forwarded: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._client: httpx.AsyncClient | None = None
        app = Starlette(
            routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "PUT", "DELETE"])]
        )
        self._server = LoopbackServer(app, "slow-proxy")

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> SlowProxy:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    def bodies_from(self, sender: str) -> list[dict[str, Any]]:
        """The Rasa webhook bodies forwarded for one sender."""
        with self._lock:
            return [body for body in self.forwarded if body.get("sender") == sender]

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        if body:
            try:
                with self._lock:
                    self.forwarded.append(json.loads(body))
            except ValueError:
                pass
        await asyncio.sleep(self.delay_seconds)
        if self._client is None:  # created in the server's own event loop
            self._client = httpx.AsyncClient(timeout=120)
        upstream = await self._client.request(
            request.method,
            f"{self.target_url}/{request.path_params['path']}",
            params=request.query_params,
            content=body,
            headers={k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS},
        )
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS}
        headers.pop("content-encoding", None)
        return Response(upstream.content, status_code=upstream.status_code, headers=headers)
