"""A local stand-in for the Telegram Bot API: real HTTP on 127.0.0.1, real JSON shapes.

It answers `GET/POST /bot<token>/<method>` with JSON, form or multipart bodies, the way
api.telegram.org does, records every call so tests can assert what the bot sent, holds
`getUpdates` long polls until an update is queued, answers 403 "bot was blocked by the
user" for chats a test marks blocked, and never answers sends to chats it marks hanging
(`hanging_chats`, a Bot API stalled for them). `too_many_requests(count, retry_after)` makes
the next sends answer 429 "Too Many Requests: retry after N" with `parameters.retry_after`,
as Telegram does to a bot that sends too fast; `refused_sends` counts them. It remembers the messages the bot sent, so
`editMessageReplyMarkup` edits them (or answers Telegram's 400s) and a button press carries
the message its button was under. Helpers build real-shaped updates and POST them to a
webhook with or without the secret header.

    with FakeTelegramApi(token="123:abc") as telegram:
        telegram.queue_update(telegram.text_update(chat_id=42, text="hello"))
        await telegram.wait_for_calls("sendMessage", chat_id=42)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.loopback import LoopbackServer, free_port

BOT_USER = {
    "id": 4242424242,
    "is_bot": True,
    "first_name": "Learncity",
    "username": "learncity_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"
_INTEGER_FIELDS = {"chat_id", "offset", "limit", "timeout", "message_id", "max_connections"}
_FLOAT_FIELDS = {"latitude", "longitude"}
_JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "reply_parameters", "commands"}
_BOOLEAN_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification"}


@dataclass
class ApiCall:
    """One request the bot made: the method name, decoded parameters and when it arrived."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # what the fake answered, once it did (e.g. the sent Message)


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class FakeTelegramApi:
    """The fake server; use as a context manager (it runs uvicorn in a daemon thread)."""

    def __init__(self, token: str = "123456:TEST-token", port: int | None = None) -> None:
        self.token = token
        self.port = port or free_port()
        self.calls: list[ApiCall] = []
        self.blocked_chats: set[int] = set()
        # Sends to these chats never answer (until the fake stops): a Bot API that hangs.
        self.hanging_chats: set[int] = set()
        self._throttled_sends = 0  # the next this many sends answer 429
        self._retry_after = 1
        self.refused_sends: list[ApiCall] = []  # sends answered 429
        self.webhook: dict[str, Any] = {}
        self.bot_messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat_id, message_id)
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        # Queries delivered late (the bot was down): Telegram refuses to answer them.
        self._expired_queries: set[str] = set()
        self._message_ids = itertools.count(1)
        self._listeners: list[Callable[[ApiCall], None]] = []
        app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )
        self._server = LoopbackServer(app, "fake-telegram-api", self.port)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be set to."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeTelegramApi:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    # -- what tests look at ------------------------------------------------------------------

    def add_listener(self, listener: Callable[[ApiCall], None]) -> None:
        """Call `listener(call)` from the server thread for every recorded call."""
        self._listeners.append(listener)

    def too_many_requests(self, count: int, retry_after: int = 1) -> None:
        """Answer the next `count` sends with 429 and `retry_after` (whole seconds, as Telegram)."""
        with self._lock:
            self._throttled_sends, self._retry_after = count, retry_after

    def calls_to(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        with self._lock:
            return [
                call
                for call in self.calls
                if call.method == method
                and (chat_id is None or call.params.get("chat_id") == chat_id)
            ]

    def bot_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message the bot sent, as it is now (after any edits)."""
        with self._lock:
            return self.bot_messages.get((chat_id, message_id))

    def sent_to(self, chat_id: int) -> list[ApiCall]:
        """Every message-sending call addressed to one chat, in order."""
        with self._lock:
            return [
                call
                for call in self.calls
                if call.method.startswith("send") and call.params.get("chat_id") == chat_id
            ]

    async def wait_for_calls(
        self, method: str, *, chat_id: int | None = None, count: int = 1, timeout: float = 30.0
    ) -> list[ApiCall]:
        """Wait until at least `count` calls of `method` (to `chat_id`) were recorded."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method, chat_id)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(call.method, call.params.get("chat_id")) for call in self.calls]
                raise AssertionError(
                    f"expected {count} {method} call(s) to chat {chat_id} within {timeout} s; "
                    f"the bot made: {seen}"
                )
            await asyncio.sleep(0.02)

    async def wait_until_quiet(
        self, chat_id: int, quiet: float = 0.5, timeout: float = 30.0
    ) -> list[ApiCall]:
        """Wait until nothing new was sent to `chat_id` for `quiet` seconds; return what was sent."""
        deadline = time.monotonic() + timeout
        seen = -1
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            sent = self.sent_to(chat_id)
            if len(sent) != seen:
                seen, last_change = len(sent), time.monotonic()
            elif seen > 0 and time.monotonic() - last_change >= quiet:
                return sent
            await asyncio.sleep(0.02)
        return self.sent_to(chat_id)

    # -- updates: queue them for getUpdates or post them to a webhook ------------------------

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(update)

    async def post_update(
        self, webhook_url: str, update: dict[str, Any], secret: str | None = None
    ) -> httpx.Response:
        """POST one update to a webhook as Telegram does, with the secret header if given."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(webhook_url, json=update, headers=headers)

    def text_update(
        self, chat_id: int, text: str, language_code: str | None = "en", first_name: str = "Citizen"
    ) -> dict[str, Any]:
        """A private-chat text message; a leading "/word" is marked as a bot command."""
        message = self._incoming_message(chat_id, language_code, first_name)
        message["text"] = text
        if text.startswith("/"):
            command_length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command_length}]
        return {"update_id": next(self._update_ids), "message": message}

    def location_update(
        self, chat_id: int, latitude: float, longitude: float, language_code: str | None = "en"
    ) -> dict[str, Any]:
        message = self._incoming_message(chat_id, language_code, "Citizen")
        message["location"] = {"latitude": latitude, "longitude": longitude}
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(
        self,
        chat_id: int,
        data: str,
        message_id: int = 1,
        language_code: str | None = "en",
        *,
        too_old: bool = False,
    ) -> dict[str, Any]:
        """A press on an inline button under the bot's message `message_id` (the message as
        the bot sent it when the fake has it, as Telegram includes it). `too_old`: delivered
        too late to answer (the bot was down), so answerCallbackQuery is refused."""
        user = _user(chat_id, language_code, "Citizen")
        message = self.bot_message(chat_id, message_id) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id, "Citizen"),
            "from": BOT_USER,
            "text": "…",
        }
        query_id = str(next(self._update_ids) * 7919)
        if too_old:
            with self._lock:
                self._expired_queries.add(query_id)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query_id,
                "from": user,
                "chat_instance": str(chat_id * 31),
                "data": data,
                "message": message,
            },
        }

    def my_chat_member_update(
        self, chat_id: int, old_status: str = "member", new_status: str = "kicked"
    ) -> dict[str, Any]:
        """The citizen blocked ("kicked") or unblocked ("member") the bot in their private chat."""

        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"status": status, "user": BOT_USER}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return {
            "update_id": next(self._update_ids),
            "my_chat_member": {
                "chat": _chat(chat_id, "Citizen"),
                "from": _user(chat_id, "en", "Citizen"),
                "date": int(time.time()),
                "old_chat_member": member(old_status),
                "new_chat_member": member(new_status),
            },
        }

    def _incoming_message(
        self, chat_id: int, language_code: str | None, first_name: str
    ) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id, first_name),
            "from": _user(chat_id, language_code, first_name),
        }

    # -- the HTTP side -----------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        method = request.path_params["method"]
        params = await _read_params(request)
        call = ApiCall(method, params)
        if method.startswith("send"):
            with self._lock:
                throttled = self._throttled_sends > 0
                self._throttled_sends -= 1 if throttled else 0
                if throttled:
                    self.refused_sends.append(call)
            if throttled:
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {self._retry_after}",
                        "parameters": {"retry_after": self._retry_after},
                    },
                    status_code=429,
                )
        with self._lock:
            self.calls.append(call)
        for listener in self._listeners:
            listener(call)
        if method.startswith("send") and params.get("chat_id") in self.hanging_chats:
            while not self._server.stopping:
                await asyncio.sleep(0.05)
            return _error(502, "Bad Gateway")
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except _ApiError as error:
            return _error(error.code, error.description)
        call.result = result
        return JSONResponse({"ok": True, "result": result})

    async def _api_getme(self, _: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self._lock:
                # Confirming an offset forgets every earlier update, as Telegram does.
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
                ready = self._pending[:limit]
            stopping = self._server.stopping
            if ready or stopping or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.01)

    async def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {
            "url": params.get("url", ""),
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
        }
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            with self._lock:
                self._pending.clear()
        return True

    async def _api_getwebhookinfo(self, _: dict[str, Any]) -> Any:
        with self._lock:
            pending = len(self._pending)
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "allowed_updates": self.webhook.get("allowed_updates") or [],
        }

    async def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        text = params.get("text") or ""
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._sent_message(params, {"text": text})

    async def _api_sendvenue(self, params: dict[str, Any]) -> Any:
        for name in ("latitude", "longitude", "title", "address"):
            if params.get(name) in (None, ""):
                raise _ApiError(400, f'Bad Request: parameter "{name}" is required')
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        venue = {"location": location, "title": params["title"], "address": params["address"]}
        return self._sent_message(params, {"venue": venue, "location": location})

    async def _api_sendlocation(self, params: dict[str, Any]) -> Any:
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        return self._sent_message(params, {"location": location})

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            expired = query_id in self._expired_queries
        if not query_id or expired:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query id is invalid",
            )
        return True

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        """Replace (or, without `reply_markup`, remove) the inline keyboard of a bot message."""
        if params.get("inline_message_id"):
            return True  # messages sent via inline mode: Telegram answers True, not the message
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if chat_id is None or message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        self._check_reachable(params)
        markup = params.get("reply_markup")
        if markup is not None and not (isinstance(markup, dict) and "inline_keyboard" in markup):
            raise _ApiError(400, "Bad Request: inline keyboard expected")
        _check_markup(markup)
        with self._lock:
            message = self.bot_messages.get((chat_id, message_id))
            if message is None:
                raise _ApiError(400, "Bad Request: message to edit not found")
            if message.get("reply_markup") == (markup or None):
                raise _ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            edited = {key: value for key, value in message.items() if key != "reply_markup"}
            edited["edit_date"] = int(time.time())
            if markup and markup.get("inline_keyboard"):
                edited["reply_markup"] = markup
            self.bot_messages[(chat_id, message_id)] = edited
        return edited

    async def _api_sendchataction(self, params: dict[str, Any]) -> Any:
        self._check_reachable(params)
        return True

    def _sent_message(self, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        self._check_reachable(params)
        _check_markup(params.get("reply_markup"))
        message = self._message(params, content)
        with self._lock:
            self.bot_messages[(message["chat"]["id"], message["message_id"])] = message
        return message

    def _check_reachable(self, params: dict[str, Any]) -> None:
        if params.get("chat_id") in self.blocked_chats:
            raise _ApiError(403, BLOCKED_DESCRIPTION)

    def _message(self, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(params.get("chat_id"), "Citizen"),
            "from": BOT_USER,
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message


def _check_markup(markup: Any) -> None:
    """Reject what Telegram rejects: callback data longer than 64 bytes or empty."""
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


async def _read_params(request: Request) -> dict[str, Any]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = {
        key: _decode(key, value) for key, value in request.query_params.items()
    }
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
    elif "application/x-www-form-urlencoded" in content_type:
        body = (await request.body()).decode("utf-8")
        params.update({key: _decode(key, value) for key, value in parse_qsl(body)})
    elif "multipart/form-data" in content_type:  # file uploads; needs python-multipart
        form = await request.form()
        params.update(
            {key: _decode(key, value) for key, value in form.items() if isinstance(value, str)}
        )
    return params


def _decode(key: str, value: Any) -> Any:
    """Form values arrive as strings; structured ones are JSON-encoded, as the Bot API allows."""
    if not isinstance(value, str):
        return value
    if key in _INTEGER_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value
    if key in _FLOAT_FIELDS:
        return float(value)
    if key in _JSON_FIELDS:
        return json.loads(value)
    if key in _BOOLEAN_FIELDS:
        return value.lower() == "true"
    return value


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": code, "description": description}, status_code=code
    )


def _chat(chat_id: Any, first_name: str) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": first_name}


def _user(user_id: int, language_code: str | None, first_name: str) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user
