"""The local web chat: a static page, a small JSON API the page (and tests) talk to, and its outbox.

- `POST /api/chat {"session_id"?, "message_id"?, "text"|"payload"|"location", "language"?}`
  → `{"session_id", "replies": [Reply.as_dict()]}`; 400 `{"error"}` naming the field at fault.
  A retry with the same session and `message_id` gets the first answer, asked once
  (bot/channels/web_turns.py; with REDIS_URL on whichever replica it reaches, web_shared_turns.py).
- `GET /api/updates?session_id=S&after=CURSOR[&wait=SECONDS]` → `{"session_id", "replies",
  "cursor"}`: replies pushed outside a turn (broadcasts, the help desk's answers), which the
  page polls for. With `wait` (at most 25 s) the gateway holds the request until a reply
  arrives or the time is up (long polling, bot/web_wakeups.py).
- `WebChannel(conversation, settings)`: those routes as the gateway's always-on channel.
- `sender(settings)` / `WebChannel.sender()`: the `ChannelSender` that puts replies in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.channels.base import RecipientUnreachableError
from bot.channels.web_shared_turns import SharedAnsweredOnce, web_answers
from bot.channels.web_turns import AnsweredOnce
from bot.conversation import Conversation
from bot.edge import payload_problem
from bot.kind_replies import TRY_AGAIN
from bot.messages import IncomingMessage, Location, Reply
from bot.web_outbox import OutboxUpdate, put_replies, updates_after
from bot.web_wakeups import OutboxWakeups
from core.database import session_scope
from core.settings import Settings
from helpdesk import is_handed_over
from nlu.language import normalise_language

logger = logging.getLogger(__name__)

WEBCHAT_DIR = Path(__file__).resolve().parent.parent / "webchat"
MAX_TEXT_LENGTH = 2000
MAX_LANGUAGE_LENGTH = 35  # a BCP 47 tag such as "zh-Hans-CN" fits easily
# While the help desk has the chat, the gateway says `poll_seconds` and the page then asks
# again at once with `wait` (long polling: an answer shows as soon as it is sent); otherwise
# the page polls at its own pace (20 s).
HANDOVER_POLL_SECONDS = 1
MAX_WAIT_SECONDS = 25
PAGE_READ_THREADS = 4


class _BadRequest(ValueError):
    pass


def _incoming_from_json(body: object) -> IncomingMessage:
    """Validate the page's JSON; every problem names the field at fault."""
    if not isinstance(body, dict):
        raise _BadRequest("the body must be a JSON object")
    session_id = _session_id(body.get("session_id") or uuid.uuid4().hex)
    language = body.get("language")
    if language is not None and (
        not isinstance(language, str) or len(language) > MAX_LANGUAGE_LENGTH
    ):
        raise _BadRequest("field language: a language code such as zh, en, es, fr, ar, ru or uk")
    text, payload, location = body.get("text"), body.get("payload"), None
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT_LENGTH):
        raise _BadRequest(f"field text: a string of at most {MAX_TEXT_LENGTH} characters")
    if payload is not None and (not isinstance(payload, str) or not payload.startswith("/")):
        raise _BadRequest("field payload: a button payload starting with '/'")
    if payload is not None and (problem := payload_problem(payload)):
        raise _BadRequest(f"field payload: {problem}")
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
    message_id = body.get("message_id")
    if message_id is not None:
        if not body.get("session_id"):
            raise _BadRequest("field message_id: send it with the session_id it belongs to")
        message_id = _client_id("message_id", message_id)
    return IncomingMessage(
        sender_id=f"web:{session_id}",
        channel="web",
        text=text,
        payload=payload,
        location=location,
        language_hint=normalise_language(language) or language or None,
        message_id=message_id,
    )


def _session_id(value: object) -> str:
    return _client_id("session_id", value)


def _client_id(field: str, value: object) -> str:
    """A client-chosen id: 1-64 letters, digits and dashes (a UUID fits)."""
    chosen = str(value)
    if (
        not (0 < len(chosen) <= 64)
        or not chosen.replace("-", "").isascii()
        or not (chosen.replace("-", "").isalnum())
    ):
        raise _BadRequest(f"field {field}: use letters, digits and dashes (at most 64)")
    return chosen


def _cursor(value: str | None) -> int:
    try:
        cursor = int(value or 0)
    except ValueError as error:
        raise _BadRequest("field after: a whole number, the last cursor you received") from error
    if cursor < 0:
        raise _BadRequest("field after: a whole number, the last cursor you received")
    return cursor


def _wait_seconds(value: str | None) -> float:
    try:
        wait = float(value or 0)
    except ValueError as error:
        raise _BadRequest(f"field wait: seconds to wait, 0 to {MAX_WAIT_SECONDS}") from error
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise _BadRequest(f"field wait: seconds to wait, 0 to {MAX_WAIT_SECONDS}")
    return wait


class WebChannel:
    """The web chat: always on, served by the gateway itself; its sender fills the outbox."""

    name = "web"

    def __init__(self, conversation: Conversation, settings: Settings | None = None) -> None:
        self.conversation = conversation
        self.database_url = conversation.database_url
        self.wakeups = OutboxWakeups(self.database_url)
        # Shared by every gateway replica when REDIS_URL is set (web_shared_turns.py).
        self.answered: AnsweredOnce | SharedAnsweredOnce = (
            web_answers(settings) if settings is not None else AnsweredOnce()
        )
        # The pages' outbox reads have threads of their own: asyncio's default pool has a
        # few threads shared with every turn's database work, and under 50 citizens' turns
        # work queued there waited 0.3-1.5 s for a thread (issue 13, bench --steps).
        self._page_reads = ThreadPoolExecutor(PAGE_READ_THREADS, thread_name_prefix="page-read")

    def routes(self) -> list[BaseRoute]:
        """The page at `/`, its assets at `/static`, `POST /api/chat` and `GET /api/updates`."""
        return [
            Route("/", self.index),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/updates", self.updates, methods=["GET"]),
            Mount("/static", StaticFiles(directory=WEBCHAT_DIR), name="webchat"),
        ]

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    def sender(self) -> WebSender:
        return WebSender(self.database_url, self.wakeups)

    async def index(self, _: Request) -> Response:
        return FileResponse(WEBCHAT_DIR / "index.html", media_type="text/html; charset=utf-8")

    async def chat(self, request: Request) -> Response:
        try:
            message = _incoming_from_json(await request.json())
        except ValueError as error:  # JSONDecodeError is a ValueError too
            return JSONResponse({"error": str(error)}, status_code=400)
        session_id = message.sender_id.removeprefix("web:")
        # "Forget me" erases this page's outbox too: the Conversation erases every registered
        # kind of citizen data (citizens/registry.py), the outbox among them.
        key = f"{session_id}/{message.message_id}" if message.message_id else None
        replies = await self.answered.answer(
            key,
            lambda: self.conversation.handle(message),
            lambda: self._try_again(message),
        )
        return JSONResponse(
            {"session_id": session_id, "replies": [reply.as_dict() for reply in replies]}
            | await self._poll_hint(message.sender_id)
        )

    async def _try_again(self, message: IncomingMessage) -> list[Reply]:
        return [await self.conversation.kind_reply(TRY_AGAIN, message)]

    async def updates(self, request: Request) -> Response:
        try:
            if "session_id" not in request.query_params:
                raise _BadRequest("field session_id: required, the id /api/chat gave you")
            session_id = _session_id(request.query_params["session_id"])
            after = _cursor(request.query_params.get("after"))
            wait = _wait_seconds(request.query_params.get("wait"))
        except _BadRequest as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        try:
            waiting, held = await self._updates(request, session_id, after, wait)
        except SQLAlchemyError:
            logger.exception("web chat outbox unreadable; is the database upgraded?")
            return JSONResponse({"error": "updates are unavailable right now"}, status_code=503)
        return JSONResponse(
            {
                "session_id": session_id,
                "replies": [update.reply for update in waiting],
                "cursor": waiting[-1].id if waiting else after,
            }
            | ({"poll_seconds": HANDOVER_POLL_SECONDS} if held else {})
        )

    async def _updates(
        self, request: Request, session_id: str, after: int, wait: float
    ) -> tuple[list[OutboxUpdate], bool]:
        """The page's replies after its cursor (with `wait`, the first ones to arrive within
        it) and whether the help desk has the chat. A page that goes away stops the wait."""
        deadline = time.monotonic() + wait
        with self.wakeups.listening(session_id) as woken:
            while True:
                woken.clear()
                read = functools.partial(_read_outbox, self.database_url, session_id, after)
                waiting = await asyncio.get_running_loop().run_in_executor(
                    self._page_reads, contextvars.copy_context().run, read
                )  # with the caller's context, as asyncio.to_thread does
                remaining = deadline - time.monotonic()
                if waiting[0] or remaining <= 0:
                    return waiting
                if await _woken_or_gone(request, woken, remaining):
                    return [], False

    async def _poll_hint(self, sender_id: str) -> dict[str, int]:
        """`poll_seconds` while the help desk has the chat, so a person's answer shows at once."""
        try:
            held = await asyncio.to_thread(is_handed_over, self.database_url, sender_id)
        except SQLAlchemyError:
            return {}
        return {"poll_seconds": HANDOVER_POLL_SECONDS} if held else {}


async def _woken_or_gone(request: Request, woken: asyncio.Event, seconds: float) -> bool:
    """Wait until `woken` is set or `seconds` pass; True when the page disconnected first."""
    wake = asyncio.ensure_future(woken.wait())
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({wake, gone}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        wake.cancel()
        gone.cancel()
    return gone.done() and not gone.cancelled()


async def _disconnected(request: Request) -> None:
    """Returns when the page's connection closed; never, when the server cannot tell."""
    try:
        while (await request.receive())["type"] != "http.disconnect":
            pass
    except Exception:  # noqa: BLE001 - no way to tell: the wake or the deadline ends the wait
        await asyncio.Event().wait()


def _read_outbox(
    database_url: str | None, session_id: str, after: int
) -> tuple[list[OutboxUpdate], bool]:
    """The page's waiting replies and whether a hand-over is open, in one trip to a thread.

    The hand-over is asked first: once it has ended, the "bot is back" notice (committed with
    the end, bot/admin/helpdesk_pages.py) is in the outbox this read sees, so a page told the
    desk is done always has that notice too. Read the other way round, an end committing
    between the two reads gave the page "done" without the notice."""
    held = is_handed_over(database_url, f"web:{session_id}")
    with session_scope(database_url) as session:
        waiting = updates_after(session, session_id, after)
    return waiting, held


class WebSender:
    """Puts replies in the web chat's outbox, where the citizen's page picks them up."""

    channel = "web"

    def __init__(self, database_url: str, wakeups: OutboxWakeups | None = None) -> None:
        self.database_url = database_url
        self.wakeups = wakeups  # the pages waiting on this gateway, woken at once

    async def send(self, recipient_id: str, replies: list[Reply]) -> None:
        """`recipient_id` is the page's session id; a malformed one can never be reached."""
        session_id = _reachable(recipient_id)
        outbox_ids = await asyncio.to_thread(self._put, session_id, replies)
        self.wake(session_id, outbox_ids)

    def reaches(self, recipient_id: str) -> bool:
        """Whether `recipient_id` can be a page's session id at all."""
        try:
            _reachable(recipient_id)
        except RecipientUnreachableError:
            return False
        return True

    def put_in(self, session: Session, recipient_id: str, replies: list[Reply]) -> list[int]:
        """Put replies in the outbox inside the caller's transaction (the help desk stores an
        answer, puts it here and marks it delivered in one commit); call `wake` after it."""
        return put_replies(session, _reachable(recipient_id), replies)

    def wake(self, session_id: str, outbox_ids: list[int]) -> None:
        """Wake the page's long poll on this gateway (on the event loop, after the commit)."""
        if self.wakeups is not None:
            self.wakeups.notify(session_id, outbox_ids)

    async def close(self) -> None:
        """Nothing to release: the outbox is the database (ChannelSender's protocol)."""

    def _put(self, session_id: str, replies: list[Reply]) -> list[int]:
        with session_scope(self.database_url) as session:
            return put_replies(session, session_id, replies)


def _reachable(recipient_id: str) -> str:
    try:
        return _session_id(recipient_id)
    except _BadRequest as error:
        raise RecipientUnreachableError(f"not a web chat session id: {recipient_id!r}") from error


def sender(settings: Settings) -> WebSender:
    """The web chat is always on, so it can always receive broadcasts."""
    return WebSender(settings.sqlalchemy_url)
