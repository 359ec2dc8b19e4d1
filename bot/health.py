"""The gateway's health: liveness (the gateway answers) apart from readiness (Rasa and actions do).

Issue 9 (13): `/health` asked Rasa's `/status` with a 2 s timeout on every request and said
"down" 2-4 times a minute under load, because a busy but healthy Rasa answered late. Now
background threads probe each server every 2 s (timeout 5 s), off the gateway's event loop,
and a server is judged:
- `up` while a probe succeeded within the last `window` seconds (15 s): slow probes alone
  never flap it to "down";
- `down` at once when a probe is definitely refused (connection refused, 401/5xx: the server
  is gone or not ours), or when no probe succeeded for the whole window (stalled).

Routes: `/health/live` (200 while the gateway process answers: for a process manager),
`/health/ready` (200 when every server is up, else 503: for a load balancer), and `/health`
(the readiness body, always 200, as before: `{"gateway": "up", "rasa": "up", ...}`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from core.settings import Settings

Outcome = Literal["up", "slow", "refused"]
ProbeOutcome = Callable[[float], Outcome]

PROBE_INTERVAL_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 5.0
WINDOW_SECONDS = 15.0


def _classify(
    send: Callable[[], httpx.Response], accept: Callable[[httpx.Response], bool]
) -> Outcome:
    try:
        response = send()
    except httpx.TimeoutException:
        return "slow"
    except httpx.HTTPError:
        return "refused"  # nobody listens, or the connection broke: the server is not there
    try:
        return "up" if accept(response) else "refused"
    except ValueError:
        return "refused"


def _probe_client() -> httpx.Client:
    """One client per probe, reused for every call of it: `httpx.get` builds a new client, and
    with it a TLS context loading every trusted certificate, on each call (23 ms of CPU against
    0.8 ms here; probes every 2 s of three servers were nearly all of an idle gateway's CPU).
    No connection is kept, so each probe still opens its own, as a load balancer's would."""
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


def rasa_outcome(url: str, token: str) -> ProbeOutcome:
    """Rasa's `/status` with the API token."""

    client = _probe_client()

    def probe(timeout: float) -> Outcome:
        return _classify(
            lambda: client.get(f"{url}/status", params={"token": token}, timeout=timeout),
            lambda response: response.status_code == 200,
        )

    return probe


def action_server_outcome(
    webhook_url: str, token: str, sender_id: str = "gateway:health-probe"
) -> ProbeOutcome:
    """The action server's webhook running the no-op probe action, with the secret."""
    from rasa_sdk import __version__ as sdk_version

    from bot.action_server import PROBE_ACTION

    body = {
        "next_action": PROBE_ACTION,
        "sender_id": sender_id,
        "tracker": {"sender_id": sender_id, "events": [], "slots": {}},
        "domain": {},
        "version": sdk_version,  # without one, rasa-sdk warns on every call
    }
    headers = {"Authorization": f"Bearer {token}"}
    client = _probe_client()

    def probe(timeout: float) -> Outcome:
        return _classify(
            lambda: client.post(webhook_url, json=body, headers=headers, timeout=timeout),
            lambda response: response.status_code == 200 and response.json()["events"] == [],
        )

    return probe


def _any_up(probes: list[ProbeOutcome]) -> ProbeOutcome:
    """Up when any of the servers is (each asked in turn until one answers)."""

    def probe(timeout: float) -> Outcome:
        outcomes = []
        for one in probes:
            outcomes.append(one(timeout))
            if outcomes[-1] == "up":
                return "up"
        return "slow" if "slow" in outcomes else "refused"

    return probe


@dataclass
class _Check:
    name: str
    probe: ProbeOutcome
    last_success: float | None = None
    last_outcome: Outcome | None = None
    probed: threading.Event = field(default_factory=threading.Event)


class HealthMonitor:
    """Probes servers in background threads and judges each over a window (see the module)."""

    def __init__(
        self,
        checks: dict[str, ProbeOutcome],
        *,
        interval: float = PROBE_INTERVAL_SECONDS,
        timeout: float = PROBE_TIMEOUT_SECONDS,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self._checks = [_Check(name, probe) for name, probe in checks.items()]
        self.interval, self.timeout, self.window = interval, timeout, window
        self._stop = threading.Event()
        self._started = False
        self._lock = threading.Lock()

    @classmethod
    def for_conversation(cls, conversation: Conversation) -> HealthMonitor:
        """Readiness of the Rasa servers the conversation talks to (with its token): each one,
        or, when they share Rasa's lock store (any of them takes any turn), any one."""
        token = getattr(conversation, "auth_token", "")
        urls = conversation.rasa_urls
        if conversation.servers.shared_lock and len(urls) > 1:
            return cls({"rasa": _any_up([rasa_outcome(url, token) for url in urls])})
        return cls(
            {
                ("rasa" if i == 0 else f"rasa_{i + 1}"): rasa_outcome(url, token)
                for i, url in enumerate(urls)
            }
        )

    @classmethod
    def for_stack(cls, settings: Settings, conversation: Conversation) -> HealthMonitor:
        """Rasa as above, and the action server at ACTION_SERVER_URL when its secret is known."""
        monitor = cls.for_conversation(conversation)
        token = settings.action_server_token.get_secret_value()
        if token:
            monitor._checks.append(
                _Check("actions", action_server_outcome(settings.action_server_url, token))
            )
        return monitor

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for check in self._checks:
            threading.Thread(
                target=self._probe_forever, args=(check,), name=f"health {check.name}", daemon=True
            ).start()

    def close(self) -> None:
        self._stop.set()

    def _probe_forever(self, check: _Check) -> None:
        while not self._stop.is_set():
            outcome = check.probe(self.timeout)
            check.last_outcome = outcome
            if outcome == "up":
                check.last_success = time.monotonic()
            check.probed.set()
            self._stop.wait(self.interval)

    def status(self, name: str) -> str:
        """ "up" or "down" for one server, judged as the module says."""
        check = next(check for check in self._checks if check.name == name)
        return self._judge(check)

    def _judge(self, check: _Check) -> str:
        if check.last_outcome == "refused" or check.last_success is None:
            return "down"
        return "up" if time.monotonic() - check.last_success <= self.window else "down"

    async def readiness(self) -> dict[str, str]:
        """Every server's state; waits for the first probes when called for the first time."""
        self.start()
        for check in self._checks:
            if not check.probed.is_set():
                await asyncio.to_thread(check.probed.wait, self.timeout + 1)
        return {check.name: self._judge(check) for check in self._checks}


def health_routes(monitor: HealthMonitor) -> list[BaseRoute]:
    """`/health/live`, `/health/ready` and the compatible `/health`."""

    async def live(_: Request) -> Response:
        return JSONResponse({"gateway": "up"})

    async def ready(_: Request) -> Response:
        servers = await monitor.readiness()
        status = 200 if all(state == "up" for state in servers.values()) else 503
        return JSONResponse({"gateway": "up", **servers}, status_code=status)

    async def compatible(_: Request) -> Response:
        return JSONResponse({"gateway": "up", **(await monitor.readiness())})

    return [
        Route("/health/live", live),
        Route("/health/ready", ready),
        Route("/health", compatible),
    ]
