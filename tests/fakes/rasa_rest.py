"""A small stand-in for the Rasa server's REST webhook, for tests that only need the transport.

It speaks the real protocol (`POST /webhooks/learncity/webhook` with `{"sender", "message",
"metadata"}`, answering a JSON list of `{"recipient_id", "text", "buttons", "custom"}`), and
answers with whatever the test's `answer(sender, message)` function returns. Conversation
tests use the real Rasa server instead (the `assistant` fixture).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nlu.serving import WEBHOOK_PATH

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
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def messages_from(self, sender: str) -> list[str]:
        with self._lock:
            return [item["message"] for item in self.received if item["sender"] == sender]

    def __enter__(self) -> FakeRasa:
        app = Starlette(
            routes=[
                Route(WEBHOOK_PATH, self._webhook, methods=["POST"]),
                Route("/status", self._status),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-rasa", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake Rasa server did not start within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self.received.append(body)
        replies = self.answer(body["sender"], body["message"])
        return JSONResponse([{"recipient_id": body["sender"], **reply} for reply in replies])

    async def _status(self, _: Request) -> JSONResponse:
        return JSONResponse({"model_file": "fake.tar.gz", "num_active_training_jobs": 0})
