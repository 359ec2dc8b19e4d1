"""The action server: rasa-sdk's app on one interface, answering only callers that hold the secret.

rasa-sdk 3.21 (`python -m rasa_sdk`) listens on every interface (`SANIC_HOST`, default 0.0.0.0)
and runs any action for anyone who can reach its port: a forged tracker with a victim's
`sender_id` could show, subscribe or erase their data. This entry point serves the same app
(`rasa_sdk.endpoint.create_app`) on `ACTION_SERVER_INTERFACE` (127.0.0.1 by default) and
refuses every `/webhook` and `/actions` request without `Authorization: Bearer
<ACTION_SERVER_TOKEN>` with 401 before any action runs. Rasa sends the header from the
endpoints file (`nlu/serving.py`).

It runs as one process (Sanic's single-process mode) instead of rasa-sdk's manager plus one
worker: a killed worker left the manager holding the port with nobody answering. Now a crash
is an exit the supervisor sees, and its health probe is a real, authenticated webhook call of
the no-op action below.

Run: `ACTION_SERVER_TOKEN=... python -m bot.action_server --port 5055`.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import sys
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sanic import Sanic, response
from sanic.request import Request

from core.settings import get_settings

logger = logging.getLogger(__name__)

PROBE_ACTION = "action_learncity_health_probe"
_OPEN_PATHS = {"/health"}  # says only "ok"; everything else needs the secret


class HealthProbeAction(Action):
    """Does nothing: the supervisor calls it through the webhook to prove the whole path works."""

    def name(self) -> str:
        return PROBE_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return []


def bearer_matches(header: str | None, token: str) -> bool:
    """True when `Authorization: Bearer <token>` carries exactly this (non-empty) token."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())


def create_app(token: str, actions_package: str = "actions") -> Sanic:
    """rasa-sdk's action server app with the secret checked before any route runs."""
    from rasa_sdk.endpoint import create_app as create_sdk_app

    if not token:
        raise ValueError(
            "ACTION_SERVER_TOKEN is empty: set the secret Rasa sends to the action server "
            "(`learncity run` makes one itself)"
        )
    executor = ActionExecutor()
    executor.register_package(actions_package)  # also finds HealthProbeAction, imported here
    app = create_sdk_app(executor, cors_origins=[])

    @app.on_request
    async def _require_secret(request: Request) -> response.HTTPResponse | None:
        if request.path in _OPEN_PATHS:
            return None
        if bearer_matches(request.headers.get("authorization"), token):
            return None
        logger.warning("refused an action server request without the secret: %s", request.path)
        return response.json({"error": "not authenticated"}, status=401)

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.action_server", description=__doc__)
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions", help="package holding the actions")
    args = parser.parse_args(argv)
    from rasa_sdk.utils import update_sanic_log_level

    from core.logging_setup import configure_logging

    settings = get_settings()
    configure_logging()
    update_sanic_log_level()
    try:
        app = create_app(settings.action_server_token.get_secret_value(), args.actions)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    host = settings.action_server_interface
    logger.info("action server on http://%s:%d (secret required)", host, args.port)
    app.run(
        host=host, port=args.port, single_process=True, access_log=False, motd=False, debug=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
