"""A small stand-in for the Rasa server's REST webhook, for tests that only need the transport.

It speaks the real protocol (`POST /webhooks/learncity/webhook` with `{"sender", "message",
"metadata"}`, answering a JSON list of `{"recipient_id", "text", "buttons", "custom"}`), and
answers with whatever the test's `answer(sender, message)` function returns. Conversation
tests use the real Rasa server instead (the `assistant` fixture).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nlu.serving import WEBHOOK_PATH
from tests.fakes.loopback import LoopbackServer

Answer = Callable[[str, str], list[dict[str, Any]]]


def echo(_: str, message: str) -> list[dict[str, Any]]:
    """The default answer: say back what was received."""
    return [{"text": f"you said: {message}"}]


class FakeRasa:
    """The fake server as a context manager (uvicorn in a daemon thread); records each message."""

    def __init__(self, answer: Answer = echo) -> None:
        self.answer = answer
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route(WEBHOOK_PATH, self._webhook, methods=["POST"]),
                Route("/status", self._status),
            ]
        )
        self._server = LoopbackServer(app, "fake-rasa")
        self.port = self._server.port

    @property
    def url(self) -> str:
        return self._server.url

    def messages_from(self, sender: str) -> list[str]:
        with self._lock:
            return [item["message"] for item in self.received if item["sender"] == sender]

    def __enter__(self) -> FakeRasa:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    async def _webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self.received.append(body)
        replies = self.answer(body["sender"], body["message"])
        return JSONResponse([{"recipient_id": body["sender"], **reply} for reply in replies])

    async def _status(self, _: Request) -> JSONResponse:
        return JSONResponse({"model_file": "fake.tar.gz", "num_active_training_jobs": 0})
