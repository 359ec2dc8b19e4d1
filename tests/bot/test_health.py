"""The gateway's health: live apart from ready, and ready judged over a window (no flapping).

Against a local server speaking Rasa's `/status` over real HTTP, which the test makes slow,
stalled, or gone.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.health import HealthMonitor, health_routes, rasa_outcome
from bot.stack import free_port
from tests.waiting import wait_until, wait_until_async

TOKEN = "health-test-token"


class StatusServer:
    """Rasa's `/status` (token required) that answers after `delay` seconds."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.prompt_answers = 0  # answered at once (no delay asked): a probe that succeeded
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    async def _status(self, request: Request) -> JSONResponse:
        if request.query_params.get("token") != TOKEN:
            return JSONResponse({"error": "not authenticated"}, status_code=401)
        delay = self.delay
        await asyncio.sleep(delay)
        self.prompt_answers += delay == 0
        return JSONResponse({"model_file": "m.tar.gz"})

    def __enter__(self) -> StatusServer:
        app = Starlette(routes=[Route("/status", self._status)])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_until(lambda: self._server.started, 30, "the status server", interval=0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


async def _sample(client: httpx.AsyncClient, seconds: float) -> list[int]:
    """Readiness statuses seen every 0.1 s for `seconds`."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.append((await client.get("/health/ready")).status_code)
        await asyncio.sleep(0.1)
    return seen


async def _until(client: httpx.AsyncClient, status: int, within: float) -> float:
    started = time.monotonic()
    while (await client.get("/health/ready")).status_code != status:
        assert time.monotonic() - started < within, f"/health/ready never became {status}"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_slow_probes_do_not_flap_to_down_but_a_stall_and_a_dead_server_do() -> None:
    with StatusServer() as rasa:
        monitor = HealthMonitor(
            {"rasa": rasa_outcome(rasa.url, TOKEN)}, interval=0.1, timeout=0.3, window=2.0
        )
        app = Starlette(routes=health_routes(monitor))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            ready = await client.get("/health/ready")
            assert (ready.status_code, ready.json()) == (200, {"gateway": "up", "rasa": "up"})
            rasa.delay = 0.5  # busy: every probe times out, for less than the window
            busy = await _sample(client, 1.2)
            rasa.delay = 0.0
            assert set(busy) == {200}, "a busy server is not reported down"
            answered = rasa.prompt_answers  # answering again: the window starts afresh
            await wait_until_async(
                lambda: rasa.prompt_answers >= answered + 2, 10, "two prompt probe answers"
            )
            rasa.delay = 30.0  # stalled: no probe succeeds for the whole window
            stalled_after = await _until(client, 503, within=5.0)
            assert 1.0 < stalled_after <= 5.0
            down = await client.get("/health")
            assert (down.status_code, down.json()) == (200, {"gateway": "up", "rasa": "down"})
            live = await client.get("/health/live")
            assert (live.status_code, live.json()) == (200, {"gateway": "up"})
            rasa.delay = 0.0
            await _until(client, 200, within=5.0)
        monitor.close()


async def test_a_server_that_is_gone_is_down_at_once(refused_port: int) -> None:
    nobody = f"http://127.0.0.1:{refused_port}"  # connection refused for the whole test
    monitor = HealthMonitor({"rasa": rasa_outcome(nobody, TOKEN)}, interval=0.1, window=60.0)
    async with client_for(Starlette(routes=health_routes(monitor))) as client:
        started = time.monotonic()
        response = await client.get("/health/ready")
        assert (response.status_code, response.json()["rasa"]) == (503, "down")
        assert time.monotonic() - started < 2.0, "not after the 60 s window"
    monitor.close()


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def test_a_server_that_refuses_our_token_is_not_ready() -> None:
    with StatusServer() as stranger:
        monitor = HealthMonitor({"rasa": rasa_outcome(stranger.url, "not-its-token")}, interval=0.1)
        async with client_for(Starlette(routes=health_routes(monitor))) as client:
            response = await client.get("/health/ready")
            assert (response.status_code, response.json()["rasa"]) == (503, "down")
        monitor.close()
