"""The gateway's edge: size, shape and header rules applied before anything reaches Rasa.

- `EdgeMiddleware` (ASGI, wraps the whole app): a request body over its route's cap is
  refused with 413 before more than the cap is read (a declared Content-Length at once; a
  chunked body as soon as it passes the cap), a JSON body nested deeper than `MAX_JSON_DEPTH`
  gets a clean 400, an unexpected exception a short JSON 500, and every response carries the
  security headers (`SECURITY_HEADERS`).
- `check_incoming(message)`: the per-field caps every channel's message must meet (text per
  channel, a well-formed intent payload of bounded size, bounded entity values); the
  conversation calls it first, and a refused message gets `refusal_table` — a short kind
  sentence in the citizen's language — never a Rasa turn.
- `payload_problem(payload)`: the payload rule alone, for the web API's 400 naming the field.

Why: a 200 KB entity in a payload kept Rasa busy 14 s and 10 MB took it to 21 GB; 100 MB
bodies were read whole (10 in parallel left the gateway at 1.2 GB); a 10 MB Telegram text
blocked Rasa 25 s; JSON nested 50k deep gave a 500 with a traceback.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.messages import IncomingMessage

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_BODY_LIMIT = 64 * 1024
# A Telegram update may quote the message it answers (two texts of 4,096 characters, JSON-escaped).
# The console's catalog upload takes files up to 5 MB (bot/admin/catalog_import_pages.py).
BODY_LIMITS = {"/telegram/": 256 * 1024, "/admin/catalog/import/check": 5 * 1024 * 1024 + 64 * 1024}
MAX_JSON_DEPTH = 32

# Text caps per channel: Telegram's own 4,096 characters, WeChat's 2,048 bytes (UTF-8), the web
# chat's 2,000 characters (its API answers 400 beyond that); any other channel: 4,096 characters.
TEXT_LIMITS: dict[str, tuple[int, str]] = {
    "telegram": (4096, "characters"),
    "wechat": (2048, "bytes"),
    "web": (2000, "characters"),
}
DEFAULT_TEXT_LIMIT = (4096, "characters")
MAX_PAYLOAD_CHARS = 2000
MAX_ENTITIES = 10
MAX_ENTITY_VALUE_CHARS = 500
MAX_LANGUAGE_HINT_CHARS = 35

# Rasa's payload syntax: /intent, /intent@0.9, /intent{"entity": "value", ...}
_PAYLOAD = re.compile(
    r"/(?P<intent>[A-Za-z0-9_.-]{1,64})(?:@(?P<confidence>[0-9.]{1,8}))?(?P<entities>\{.*\})?",
    re.DOTALL,
)
_ENTITY_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SQUARE_BRACKETS = bytes.maketrans(b"{}", b"[]")  # depth does not care which kind
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")

SECURITY_HEADERS: dict[str, str] = {
    # The web chat loads its script and style from /static only; no inline code, no frames.
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}

TOO_LONG = {
    "zh": "抱歉，这条消息太长了，我读不了。请用几句话再说一次。",
    "en": "Sorry, that message is too long for me to read. Please say it again in a few sentences.",
    "es": "Lo siento, ese mensaje es demasiado largo. Por favor, dilo de nuevo en pocas frases.",
    "fr": "Désolé, ce message est trop long pour moi. Redites-le en quelques phrases, s'il vous plaît.",
    "ar": "عذرًا، هذه الرسالة أطول من أن أقرأها. يُرجى إعادة كتابتها في بضع جمل.",
    "ru": "Извините, это сообщение слишком длинное. Пожалуйста, напишите его в нескольких фразах.",
    "uk": "Вибачте, це повідомлення задовге. Будь ласка, напишіть його кількома реченнями.",
}
UNREADABLE = {
    "zh": "抱歉，我看不懂这个按钮或消息。请直接用文字告诉我您想找什么。",
    "en": "Sorry, I could not read that button or message. Please tell me in words what you need.",
    "es": "Lo siento, no pude leer ese botón o mensaje. Dime con palabras qué necesitas.",
    "fr": "Désolé, je n'ai pas pu lire ce bouton ou ce message. Dites-moi avec des mots ce qu'il vous faut.",
    "ar": "عذرًا، لم أستطع قراءة هذا الزر أو الرسالة. أخبرني بالكلمات بما تحتاج إليه.",
    "ru": "Извините, я не смог прочитать эту кнопку или сообщение. Напишите словами, что вам нужно.",
    "uk": "Вибачте, я не зміг прочитати цю кнопку чи повідомлення. Напишіть словами, що вам потрібно.",
}


class Refusal(ValueError):
    """A message the edge will not pass on; `reason` is for the operator and names no content."""

    def __init__(self, reason: str, *, too_long: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_long = too_long


def payload_problem(payload: str) -> str | None:
    """Why `payload` is not a well-formed intent payload of bounded size; None when it is."""
    if len(payload) > MAX_PAYLOAD_CHARS:
        return f"a payload of {len(payload)} characters is over {MAX_PAYLOAD_CHARS}"
    match = _PAYLOAD.fullmatch(payload)
    if match is None:
        return 'not an intent payload such as /intent or /intent{"entity": "value"}'
    if match["confidence"] is not None:
        try:
            confidence = float(match["confidence"])
        except ValueError:
            return "the confidence after @ is not a number"
        if not 0.0 <= confidence <= 1.0:
            return "the confidence after @ must be between 0 and 1"
    if match["entities"] is None:
        return None
    if nests_deeper_than(match["entities"].encode("utf-8"), limit=2):
        return "entities must be a flat JSON object (values: text, numbers or lists of them)"
    try:
        entities = json.loads(match["entities"])
    except ValueError:
        return "the entities are not valid JSON"
    if not isinstance(entities, dict):
        return "the entities must be a JSON object"
    if len(entities) > MAX_ENTITIES:
        return f"{len(entities)} entities are over {MAX_ENTITIES}"
    for name, value in entities.items():
        if not _ENTITY_NAME.fullmatch(name):
            return "an entity name is not letters, digits and underscores (at most 64)"
        problem = _entity_value_problem(value)
        if problem:
            return f"entity {name}: {problem}"
    return None


def _entity_value_problem(value: object) -> str | None:
    values = value if isinstance(value, list) else [value]
    if len(values) > MAX_ENTITIES:
        return f"a list of {len(values)} values is over {MAX_ENTITIES}"
    for item in values:
        if isinstance(item, str) and len(item) > MAX_ENTITY_VALUE_CHARS:
            return f"a value of {len(item)} characters is over {MAX_ENTITY_VALUE_CHARS}"
        if isinstance(item, float) and not math.isfinite(item):
            return "a number that is not finite"
        if not isinstance(item, str | int | float | bool) and item is not None:
            return "values must be text, numbers or lists of them"
    return None


def check_incoming(message: IncomingMessage) -> None:
    """Raise `Refusal` when a message breaks a cap; every channel's message passes here."""
    if message.text is not None:
        limit, unit = TEXT_LIMITS.get(message.channel, DEFAULT_TEXT_LIMIT)
        size = len(message.text.encode("utf-8")) if unit == "bytes" else len(message.text)
        if size > limit:
            raise Refusal(f"{message.channel} text of {size} {unit} is over {limit}", too_long=True)
    if message.payload is not None:
        problem = payload_problem(message.payload)
        if problem:
            raise Refusal(f"{message.channel} payload: {problem}", too_long=False)
    elif message.location is None and (message.text or "").lstrip().startswith("/"):
        # Rasa reads typed text that starts with "/" as a payload: the same rules apply.
        problem = payload_problem((message.text or "").strip())
        if problem and "{" in (message.text or ""):
            raise Refusal(f"{message.channel} text read as a payload: {problem}", too_long=False)
    if message.location is not None:
        latitude, longitude = message.location.latitude, message.location.longitude
        if not (
            math.isfinite(latitude)
            and math.isfinite(longitude)
            and -90 <= latitude <= 90
            and -180 <= longitude <= 180
        ):
            raise Refusal(f"{message.channel} location out of range", too_long=False)
    hint = message.language_hint
    if hint is not None and len(hint) > MAX_LANGUAGE_HINT_CHARS:
        raise Refusal(f"{message.channel} language hint of {len(hint)} characters", too_long=False)


def refusal_table(refusal: Refusal) -> dict[str, str]:
    """The short kind sentence a refused message gets, by language (the conversation picks
    the citizen's: bot/known_language.py)."""
    return TOO_LONG if refusal.too_long else UNREADABLE


def nests_deeper_than(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `body`'s JSON nests more than `limit` levels (brackets inside strings do not
    count; for an unbalanced body, the deepest point reached).

    Done with C-speed bytes operations: strip strings, keep only brackets, refuse a run of
    openings deeper than `limit`, then peel the innermost level off per pass (a 64 KB body
    50,000 levels deep: under 1 ms; the worst case, many 32-deep trees in 256 KB: ~60 ms)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(_SQUARE_BRACKETS, _NOT_BRACKETS)
    if b"[" * (limit + 1) in brackets:  # the usual attack: one long run of openings
        return True
    for peeled in range(limit):
        if not brackets:
            return False
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):  # unbalanced (invalid JSON): count what is left
            return peeled + _open_run(brackets, limit + 1 - peeled) > limit
        brackets = inner
    # `limit` levels peeled: anything still nested goes deeper
    return b"[]" in brackets or _open_run(brackets, 1) > 0


def _open_run(brackets: bytes, enough: int) -> int:
    """The deepest nesting of a bracket-only string, counted up to `enough`."""
    depth = deepest = 0
    for char in brackets:
        depth += 1 if char == 0x5B else -1  # "["
        deepest = max(deepest, depth)
        if deepest >= enough or depth < 0:
            break
    return deepest


class EdgeMiddleware:
    """Body caps, JSON depth and security headers for every HTTP request of the gateway."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limits: dict[str, int] | None = None,
        default_body_limit: int = DEFAULT_BODY_LIMIT,
        max_json_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.body_limits = BODY_LIMITS if body_limits is None else body_limits
        self.default_body_limit = default_body_limit
        self.max_json_depth = max_json_depth

    def body_limit(self, path: str) -> int:
        for prefix, limit in self.body_limits.items():
            if path.startswith(prefix):
                return limit
        return self.default_body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        limit = self.body_limit(scope.get("path", ""))
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, 400, "the Content-Length header is not a number")
            return
        if declared is not None and declared > limit:
            await _refuse(send, 413, f"the request body is over {limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before sending its body; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, 413, f"the request body is over {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.lstrip()[:1] in (b"{", b"[") and nests_deeper_than(body, self.max_json_depth):
            await _refuse(send, 400, f"JSON nested deeper than {self.max_json_depth} levels")
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _replay(body, receive), sending)
        except Exception:
            # A short JSON 500 with the headers; the traceback goes to the (scrubbed) log.
            if not started:
                await _refuse(send, 500, "internal error; the operator's log has the details")
            raise


def _content_length(scope: Scope) -> int | None:
    """The declared body size; None when not declared, -1 when not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else -1
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would

    return replayed


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            for name, value in SECURITY_HEADERS.items():
                if name.encode() not in present:
                    headers.append((name.encode(), value.encode()))
            message["headers"] = headers
        await send(message)

    return sending


async def _refuse(send: Send, status: int, error: str) -> None:
    """A short JSON error; the connection closes so an unread body is never read on."""
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
