"""Serve Starlette apps with uvicorn on 127.0.0.1: fakes in a daemon thread, the gateway in the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

from bot.stack import free_port

__all__ = ["LoopbackServer", "free_port", "serving_in_this_loop"]


@contextlib.asynccontextmanager
async def serving_in_this_loop(app: Starlette, port: int) -> AsyncIterator[str]:
    """Serve `app` from the running event loop (its clients stay bound to the test's loop)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the app stopped during start-up")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


class LoopbackServer:
    """A real HTTP server for one app, started and stopped by its owner."""

    def __init__(self, app: Starlette, name: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.name = name
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called: long-held requests (hanging sends) should end."""
        return self._server.should_exit

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self.name} did not start on port {self.port} within 10 s")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
