"""How the Rasa server calls the action server: over kept-alive connections, with this turn's events.

Runs inside the Rasa server (Python 3.10 venv). Rasa 3.6 opens a new aiohttp session, and so
a new TCP connection, for every action call, and sends the conversation's whole event
history each time, which it serialises and the action server parses again on every turn.
Both grew with the conversation and cost several milliseconds of CPU per message under load.

After `install()`:
- each endpoint (the action server) keeps one aiohttp session with a small pool of open
  connections, closed by this side after 2 s idle (rasa-sdk's server keeps them longer, so
  it never closes one just as it is reused);
- an action receives the events from the latest user message on. The slots, the latest
  message, the active form and everything else in the tracker state are unchanged, and so
  are `tracker.slots_to_validate()` and `tracker.get_latest_input_channel()`, which read
  those events. An action that walks the history of earlier turns in `tracker.events` would
  see only the current turn (none of learncity's do; see docs/development.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from nlu.rasa_version import require_tested_rasa

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

import rasa  # noqa: E402
from rasa.core.actions.action import RemoteAction  # noqa: E402
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT  # noqa: E402
from rasa.shared.core.events import UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

IDLE_CONNECTION_SECONDS = 2.0
CONNECTIONS_PER_ENDPOINT = 64


class _KeptSession:
    """`async with` that hands out a shared session and leaves it open afterwards."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *_exc: Any) -> bool:
        return False


def _kept_session(self: EndpointConfig) -> _KeptSession:
    loop = asyncio.get_running_loop()
    kept = getattr(self, "_learncity_session", None)
    if kept is None or kept.closed or kept._loop is not loop:
        auth = None
        if self.basic_auth:
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
        kept = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(
                limit=CONNECTIONS_PER_ENDPOINT, keepalive_timeout=IDLE_CONNECTION_SECONDS
            ),
        )
        self._learncity_session = kept
    return _KeptSession(kept)


def turn_events(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    """The tracker's events from the latest user message on, serialised."""
    events = list(tracker.events)
    start = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            start = index
            break
    return [event.as_dict() for event in events[start:]]


def _action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Any) -> dict:
    """Rasa's request body for the action server, with this turn's events only."""
    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = turn_events(tracker)
    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
        self.name()
    ):
        result["domain"] = domain.as_dict()
    return result


def install() -> None:
    """Keep action-server connections open and send each action this turn's events."""
    if getattr(EndpointConfig.session, "kept", False):
        return
    _kept_session.kept = True  # type: ignore[attr-defined]
    EndpointConfig.session = _kept_session  # type: ignore[method-assign, assignment]
    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]
