"""Rasa input channel for the gateway: Rasa's REST channel that also passes message metadata.

Runs inside the Rasa server (Python 3.10 venv); it imports only Rasa and its siblings
`nlu.action_validation`, `nlu.action_calls` and `nlu.graph_runner`.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from nlu import action_calls, action_validation, graph_runner

# The server imports this channel at start: the place to prepare how it runs its model and
# calls its actions (docs/development.md, "Inside the Rasa server").
action_validation.install()
action_calls.install()
graph_runner.install()


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
        return super().blueprint(_answer_nothing_when_the_turn_fails(on_new_message))


def _answer_nothing_when_the_turn_fails(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """A turn that fails after replies were collected (its tracker could not be stored)
    answers nothing, which the gateway turns into "try again": Rasa's REST channel would
    send the collected replies, as if the turn had happened (issue 9, item 10)."""

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception:
            if isinstance(message.output_channel, CollectingOutputChannel):
                message.output_channel.messages.clear()
            raise

    return handle
