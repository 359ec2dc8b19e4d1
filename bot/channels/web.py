"""The local web chat: a static page and a small JSON API the page (and tests) talk to."""

from __future__ import annotations

import uuid
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.conversation import Conversation
from bot.messages import IncomingMessage, Location
from nlu.language import normalise_language

WEBCHAT_DIR = Path(__file__).resolve().parent.parent / "webchat"
MAX_TEXT_LENGTH = 2000


class _BadRequest(ValueError):
    pass


def _incoming_from_json(body: object) -> IncomingMessage:
    """Validate the page's JSON; every problem names the field at fault."""
    if not isinstance(body, dict):
        raise _BadRequest("the body must be a JSON object")
    session_id = str(body.get("session_id") or uuid.uuid4().hex)
    if len(session_id) > 64 or not session_id.replace("-", "").isalnum():
        raise _BadRequest("field session_id: use letters, digits and dashes (at most 64)")
    text, payload, location = body.get("text"), body.get("payload"), None
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT_LENGTH):
        raise _BadRequest(f"field text: a string of at most {MAX_TEXT_LENGTH} characters")
    if payload is not None and (not isinstance(payload, str) or not payload.startswith("/")):
        raise _BadRequest("field payload: a button payload starting with '/'")
    if body.get("location") is not None:
        try:
            latitude = float(body["location"]["latitude"])
            longitude = float(body["location"]["longitude"])
        except (KeyError, TypeError, ValueError) as error:
            raise _BadRequest("field location: needs numeric latitude and longitude") from error
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _BadRequest("field location: latitude or longitude out of range")
        location = Location(latitude, longitude)
    if not (text or payload or location):
        raise _BadRequest("send one of: text, payload, location")
    return IncomingMessage(
        sender_id=f"web:{session_id}",
        channel="web",
        text=text,
        payload=payload,
        location=location,
        language_hint=normalise_language(body.get("language")) or body.get("language"),
    )


def routes(conversation: Conversation) -> list[Route | Mount]:
    """The page at `/`, its assets at `/static`, and `POST /api/chat`."""

    async def index(_: Request) -> Response:
        return FileResponse(WEBCHAT_DIR / "index.html", media_type="text/html; charset=utf-8")

    async def chat(request: Request) -> Response:
        try:
            message = _incoming_from_json(await request.json())
        except ValueError as error:  # JSONDecodeError is a ValueError too
            return JSONResponse({"error": str(error)}, status_code=400)
        replies = await conversation.handle(message)
        return JSONResponse(
            {
                "session_id": message.sender_id.removeprefix("web:"),
                "replies": [reply.as_dict() for reply in replies],
            }
        )

    return [
        Route("/", index),
        Route("/api/chat", chat, methods=["POST"]),
        Mount("/static", StaticFiles(directory=WEBCHAT_DIR), name="webchat"),
    ]
