"""Rasa input channel for the gateway: Rasa's REST channel that also passes message metadata.

Runs inside the Rasa server (Python 3.10 venv); it imports only Rasa and its siblings
`nlu.action_validation`, `nlu.action_calls`, `nlu.diet_inference`, `nlu.graph_runner`,
`nlu.policy_history` and `nlu.tracker_copy`.
"""

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from nlu import (
    action_calls,
    action_validation,
    diet_inference,
    graph_runner,
    policy_history,
    tracker_copy,
)

# The server imports this channel at start: the place to prepare how it runs its model and
# calls its actions (docs/development.md, "Inside the Rasa server").
action_validation.install()
action_calls.install()
diet_inference.install()
graph_runner.install()
policy_history.install()
tracker_copy.install()


class GatewayInput(RestInput):
    """`POST /webhooks/learncity/webhook` with `{"sender", "message", "metadata"}`."""

    @classmethod
    def name(cls) -> str:
        return "learncity"

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        payload = request.json or {}
        metadata = payload.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(_answer_nothing_when_the_turn_fails(on_new_message))
        blueprint.middleware("request")(_require_gateway_secret)
        return blueprint


async def _require_gateway_secret(request: Request) -> HTTPResponse | None:
    """Only the gateway may take a citizen's turn: Rasa's `--auth-token` does not cover
    channel webhooks, so without this any local process could speak (and "forget me") as
    any citizen. The secret is the RASA_AUTH_TOKEN the supervisor gives both sides."""
    expected = os.environ.get("RASA_AUTH_TOKEN", "")
    given = request.headers.get("Authorization", "")
    if expected and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return None
    reason = "missing or wrong gateway secret" if expected else "RASA_AUTH_TOKEN is not set"
    return response.json({"error": f"refused: {reason}"}, status=401)


def _answer_nothing_when_the_turn_fails(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """A turn that fails after replies were collected (its tracker could not be stored)
    answers no reply, only why it failed (`FAILED_TURN_KEY`), which the gateway logs and turns
    into "try again": Rasa's REST channel would send the collected replies, as if the turn had
    happened (issue 9, item 10)."""

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception as error:
            if isinstance(message.output_channel, CollectingOutputChannel):
                reason = _FAILURES.get(type(error).__name__, type(error).__name__)
                message.output_channel.messages[:] = [
                    {
                        "recipient_id": message.sender_id,
                        "custom": {FAILED_TURN_KEY: f"{reason} (see rasa-server.log)"},
                    }
                ]
            raise

    return handle


# The gateway (bot/conversation.py) reads this key: the turn failed inside Rasa, and why.
FAILED_TURN_KEY = "learncity_failed_turn"
_FAILURES = {"ConversationStoreUnavailableError": "its conversation database is unavailable"}
