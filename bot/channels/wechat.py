"""The WeChat Official Account channel: the `/wechat` server callback in front of the `Conversation`.

WeChat calls `GET /wechat` once to check the server (echo handshake) and `POST /wechat` for
every message and event, signed with the account's Token, in plain or safe mode
(`encrypt_type=aes`, EncodingAESKey). Answers ready within WECHAT_REPLY_BUDGET_SECONDS
(default 4.0, under WeChat's 5-second limit) go back in the response (a passive reply); slower
ones are sent as customer-service messages through the API (WECHAT_APP_ID, WECHAT_APP_SECRET).
WeChat's retries of a message are answered once (see wechat_turns.py). A callback is refused
(403) when its timestamp is stale or its nonce was used with another body (wechat_replay.py),
and, once WECHAT_AES_KEY is set, when it is not in safe mode or its msg_signature does not
cover its encrypted body. Nothing here runs when WECHAT_TOKEN is empty. See
docs/channels-wechat.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.base import RecipientUnreachableError
from bot.channels.wechat_api import TEXT_LIMIT_BYTES, WeChatApi, WeChatApiError
from bot.channels.wechat_crypto import MessageCrypto, WeChatCryptoError, signature_matches
from bot.channels.wechat_render import NumberedChoices, render_turn
from bot.channels.wechat_replay import ReplayGuard
from bot.channels.wechat_turns import SenderLocks, Turn, TurnLedger
from bot.channels.wechat_xml import (
    BadCallbackError,
    CallbackMessage,
    encrypted_reply,
    parse_message,
    parse_root,
    text_reply,
)
from bot.conversation import Conversation
from bot.edge import UNREADABLE
from bot.kind_replies import NOT_READ, TRY_AGAIN
from bot.known_language import in_known_language
from bot.messages import IncomingMessage, Location, Reply
from bot.shared_state import nonce_store, numbered_choices, seen_once
from bot.text_split import split_text, utf8_length
from citizens import mark_reachable, mark_unreachable
from core.database import session_scope
from core.settings import Settings
from knowledge.city import load_city
from nlu.language import normalise_language

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/wechat"
GREET_PAYLOAD = "/greet"
SUCCESS = "success"  # WeChat's "received, nothing to reply now"
# user/info is asked once per new citizen, inside WeChat's 5 s: never more than this of it.
CLIENT_LANGUAGE_SECONDS = 1.0
_VALID_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")


class WeChatChannel:
    """One Official Account's callback serving one gateway's conversation."""

    name = "wechat"

    def __init__(
        self,
        conversation: Conversation,
        settings: Settings,
        replay_guard: ReplayGuard | None = None,
    ) -> None:
        if not _VALID_TOKEN.match(settings.wechat_token.get_secret_value()):
            raise ValueError(
                "WECHAT_TOKEN must be the Token from the Official Account's server configuration: "
                "3-32 letters and digits (the platform accepts nothing else)"
            )
        self.settings = settings
        self.conversation = conversation
        self.reply_budget_seconds = settings.wechat_reply_budget_seconds
        self._token = settings.wechat_token.get_secret_value()
        aes_key = settings.wechat_aes_key.get_secret_value()
        self.crypto = (
            MessageCrypto(self._token, aes_key, settings.wechat_app_id) if aes_key else None
        )
        self.api = _api(settings)
        if self.api is None:
            logger.warning(
                "wechat: WECHAT_APP_ID/WECHAT_APP_SECRET not set; answers slower than %.1f s "
                "cannot be delivered (customer-service messages need them)",
                self.reply_budget_seconds,
            )
        # Numbers offered by this gateway's pushes must work when the citizen replies.
        self.choices = numbered_choices(settings)  # in Redis when REDIS_URL is set
        self.database_url = conversation.database_url or settings.sqlalchemy_url
        # Callbacks carry no client language: user/info's, else the city's stands in for it.
        self.city_language = load_city(settings.learncity_city_file).language
        self._client_languages: OrderedDict[str, str | None] = OrderedDict()
        self.turns: TurnLedger[Turn] = TurnLedger()
        # Shared by every gateway replica when REDIS_URL is set (bot/shared_state.py).
        self.message_ids = seen_once(settings, "wechat:msg")
        if replay_guard is None:
            replay_guard = ReplayGuard(nonce_store(settings))
        self.replay_guard = replay_guard
        self._locks = SenderLocks()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._known_reachable: OrderedDict[str, None] = OrderedDict()

    def routes(self) -> list[BaseRoute]:
        return [Route(CALLBACK_PATH, self.callback, methods=["GET", "POST"])]

    def sender(self) -> WeChatSender:
        """Customer-service pushes sharing this channel's numbered choices."""
        api = self.api or _api(self.settings)
        if api is None:
            raise ValueError("WECHAT_APP_ID and WECHAT_APP_SECRET are needed to push messages")
        return WeChatSender(self.settings, api, self.choices, owns_api=self.api is None)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """While the gateway runs; on the way out, let answers in flight reach their citizens."""
        try:
            yield
        finally:
            if self._deliveries:
                await asyncio.wait(set(self._deliveries), timeout=15)
            if self.api is not None:
                await self.api.close()

    async def callback(self, request: Request) -> Response:
        """`GET/POST /wechat`: check the signature, then the handshake or a message."""
        params = request.query_params
        timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
        given = params.get("signature", "")
        if not given or not signature_matches((self._token, timestamp, nonce), given):
            return _refuse(request, "missing" if not given else "wrong", "signature")
        if request.method == "GET":
            return PlainTextResponse(params.get("echostr", ""))
        encrypted = params.get("encrypt_type", "raw").lower() == "aes"
        if self.crypto is not None and not encrypted:
            # Safe mode is configured: a plain body is a downgrade (no msg_signature covers it).
            return _refuse(request, "plain body in safe mode,", "no msg_signature")
        stale = self.replay_guard.stale(timestamp)
        if stale is not None:
            return _refuse(request, stale + ",", "possible replay")
        body = await request.body()
        try:
            fields = parse_root(body)
            if encrypted:
                fields = self._decrypted(fields, timestamp, nonce, params.get("msg_signature", ""))
            message = parse_message(fields)
        except _RefusedError as refused:
            return _refuse(request, str(refused), "msg_signature")
        except (BadCallbackError, WeChatCryptoError) as error:
            logger.warning("wechat callback: rejected a message body: %s", error)
            return PlainTextResponse("bad request", status_code=400)
        reused = await self.replay_guard.reused(timestamp, nonce, body)
        if reused is not None:
            return _refuse(request, reused + ",", "replay")
        answer = await self._answer(message)
        if answer is None:
            return PlainTextResponse(SUCCESS)
        xml = text_reply(message.from_user, message.to_user, answer)
        if encrypted and self.crypto is not None:
            sealed = self.crypto.encrypt(xml)
            signed = self.crypto.message_signature(timestamp, nonce, sealed)
            xml = encrypted_reply(sealed, signed, timestamp, nonce)
        return Response(xml, media_type="application/xml; charset=utf-8")

    def _decrypted(
        self, fields: dict[str, str], timestamp: str, nonce: str, msg_signature: str
    ) -> dict[str, str]:
        if self.crypto is None:
            raise BadCallbackError(
                "a safe-mode (encrypt_type=aes) message arrived but WECHAT_AES_KEY is not set"
            )
        sealed = fields.get("Encrypt", "")
        if not sealed:
            raise BadCallbackError("safe mode without an Encrypt element")
        expected = (self._token, timestamp, nonce, sealed)
        if not msg_signature or not signature_matches(expected, msg_signature):
            raise _RefusedError("missing" if not msg_signature else "wrong")
        return parse_root(self.crypto.decrypt(sealed).encode("utf-8"))

    async def _answer(self, message: CallbackMessage) -> str | None:
        """This request's passive reply, starting the turn unless it is a retry."""
        key = message.dedupe_key
        turn = self.turns.get(key)
        if turn is None:
            claimed = await self.message_ids.first(key, self.turns.ttl_seconds)
            turn = self.turns.get(key)  # a retry here may have started it meanwhile
            if turn is None and not claimed:
                # Another replica took this message (WeChat retried elsewhere): it answers.
                logger.debug("wechat: %s is answered by another gateway replica", key)
                return None
        if turn is None:
            turn = Turn(sender_id=f"wechat:{message.from_user}")
            self.turns.add(key, turn)
            turn.task = asyncio.create_task(self._run_turn(turn, message))
            self._deliveries.add(turn.task)
            turn.task.add_done_callback(self._deliveries.discard)
        else:
            logger.debug("wechat: retry %d of %s", turn.requests, key)
        return await turn.passive_answer(self.reply_budget_seconds)

    async def _run_turn(self, turn: Turn, message: CallbackMessage) -> None:
        """Ask the assistant (once per message), then deliver what no response carried."""
        openid = message.from_user
        try:
            async with self._locks.for_sender(turn.sender_id):
                turn.answer = await self._answer_pieces(turn.sender_id, message)
                turn.ready.set()
                pieces = await turn.undelivered_pieces(self.reply_budget_seconds + 1.0)
                if pieces:
                    await self._send_pieces(openid, pieces)
        except Exception:
            # The Conversation already turns a failed turn into "try again"; this catches the
            # channel's own part (rendering, sending), so the citizen is still not left in silence.
            logger.exception("wechat: answering a %s message failed", message.msg_type)
            if not turn.ready.is_set():
                turn.answer = [await self._note(turn.sender_id, TRY_AGAIN)]
        finally:
            turn.ready.set()

    async def _answer_pieces(self, sender_id: str, message: CallbackMessage) -> list[str]:
        if message.msg_type == "event" and message.event.lower() == "unsubscribe":
            await self._store(mark_unreachable, sender_id)
            self._known_reachable.pop(sender_id, None)
            logger.info("wechat citizen unfollowed; marked unreachable")
            return []
        incoming = self.incoming_message(message, await self._client_language(sender_id))
        if incoming is None:
            if message.msg_type == "event":
                return []  # events without an answer (VIEW, LOCATION reports, SCAN...)
            if message.msg_type == "location":  # without usable coordinates
                return [await self._note(sender_id, UNREADABLE)]
            return [await self._note(sender_id, NOT_READ)]  # image, voice, video, link, file...
        replies = await self.conversation.handle(
            incoming, before=lambda: self._citizen_wrote(sender_id)
        )
        text, payloads = render_turn(replies)
        if replies:
            self.choices.offer(sender_id, payloads)
        return split_text(text, TEXT_LIMIT_BYTES, utf8_length)

    def incoming_message(
        self, message: CallbackMessage, client_language: str | None = None
    ) -> IncomingMessage | None:
        """The internal message for a WeChat message or event; None when nothing is asked.
        `client_language`: the citizen's WeChat client's, when user/info told it."""
        sender_id = f"wechat:{message.from_user}"
        base: dict[str, Any] = {
            "sender_id": sender_id,
            "channel": "wechat",
            "message_id": message.msg_id or None,
            "language_hint": client_language or self.city_language,
        }
        kind = message.msg_type
        if kind == "voice" and message.recognition:
            kind, text = "text", message.recognition
        else:
            text = message.content
        if kind == "text":  # blank too: the conversation asks for words
            payload = self.choices.payload_for(sender_id, text)
            return IncomingMessage(**base, text=text, payload=payload)
        if kind == "location":
            location = _location(message.latitude, message.longitude)
            return IncomingMessage(**base, location=location) if location else None
        if kind == "event":
            event = message.event.lower()
            if event == "subscribe":
                return IncomingMessage(**base, payload=GREET_PAYLOAD)
            if event == "click" and message.event_key.strip():
                key = message.event_key.strip()
                return IncomingMessage(**base, payload=key if key.startswith("/") else f"/{key}")
        return None

    async def _note(self, sender_id: str, table: dict[str, str]) -> str:
        """One of the gateway's own sentences in the language the citizen is known by; for a
        citizen not yet known, in the city's language, else in Chinese and English (WeChat says
        no client language)."""
        known = (
            await self.conversation.languages.known(sender_id)
            or await self._client_language(sender_id)
            or self.city_language
        )
        if known:
            return in_known_language(table, known).text
        return f"{table['zh']}\n{table['en']}"

    async def _client_language(self, sender_id: str) -> str | None:
        """For a citizen the assistant has not answered yet: their WeChat client's language
        (user/info, asked once per citizen and process, at most `CLIENT_LANGUAGE_SECONDS`)."""
        if self.api is None or await self.conversation.languages.known(sender_id):
            return None
        if sender_id in self._client_languages:
            return self._client_languages[sender_id]
        try:
            reported = await asyncio.wait_for(
                self.api.client_language(sender_id.removeprefix("wechat:")),
                CLIENT_LANGUAGE_SECONDS,
            )
        except (WeChatApiError, TimeoutError) as error:
            logger.info("wechat: the client's language is unknown: %s", error)
            reported = None
        language = normalise_language(reported)
        self._client_languages[sender_id] = language
        while len(self._client_languages) > 50_000:
            self._client_languages.popitem(last=False)
        return language

    async def _send_pieces(self, openid: str, pieces: list[str]) -> None:
        if self.api is None:
            logger.error("wechat: an answer was ready too late and WECHAT_APP_SECRET is not set")
            return
        try:
            for piece in pieces:
                await self.api.send_text(openid, piece)
        except RecipientUnreachableError as error:
            await self._store(mark_unreachable, f"wechat:{openid}")
            logger.info("wechat: citizen unreachable, marked so: %s", error)
        except WeChatApiError as error:
            logger.error("wechat: a customer-service message was not sent: %s", error)

    async def _citizen_wrote(self, sender_id: str) -> None:
        if sender_id in self._known_reachable:
            self._known_reachable.move_to_end(sender_id)
            return
        await self._store(mark_reachable, sender_id)
        self._known_reachable[sender_id] = None
        while len(self._known_reachable) > 50_000:
            self._known_reachable.popitem(last=False)

    async def _store(self, change: Callable[[Any, str], None], sender_id: str) -> None:
        def store() -> None:
            with session_scope(self.database_url) as session:
                change(session, sender_id)

        await asyncio.to_thread(store)


class WeChatSender:
    """Pushes replies outside a conversation turn as customer-service messages ("wechat")."""

    channel = "wechat"

    def __init__(
        self,
        settings: Settings,
        api: WeChatApi,
        choices: NumberedChoices | None = None,
        *,
        owns_api: bool = True,
    ) -> None:
        self.api = api
        self.database_url = settings.sqlalchemy_url
        self.choices = choices if choices is not None else numbered_choices(settings)
        self._owns_api = owns_api

    async def send(self, recipient_id: str, replies: list[Reply]) -> None:
        """Raises RecipientUnreachableError (after marking them) if WeChat cannot reach them."""
        text, payloads = render_turn(replies)
        if payloads:
            self.choices.offer(f"wechat:{recipient_id}", payloads)
        try:
            await self.api.send_text(recipient_id, text)
        except RecipientUnreachableError:
            await asyncio.to_thread(self._mark_unreachable, f"wechat:{recipient_id}")
            raise

    def _mark_unreachable(self, sender_id: str) -> None:
        with session_scope(self.database_url) as session:
            mark_unreachable(session, sender_id)

    async def close(self) -> None:
        if self._owns_api:
            await self.api.close()


def configured(settings: Settings) -> bool:
    """Whether the settings ask for WeChat (WECHAT_TOKEN is set)."""
    return bool(settings.wechat_token.get_secret_value())


def sender(settings: Settings) -> WeChatSender | None:
    """A sender for a process without a gateway (the `broadcast` command); None if not set up."""
    api = _api(settings)
    return WeChatSender(settings, api) if api is not None else None


class _RefusedError(Exception):
    """A safe-mode message whose msg_signature is missing or wrong (answered 403)."""


def _refuse(request: Request, reason: str, what: str) -> Response:
    client = request.client.host if request.client else "unknown"
    logger.warning("wechat callback: refused a request from %s (%s %s)", client, reason, what)
    return PlainTextResponse("forbidden", status_code=403)


def _api(settings: Settings) -> WeChatApi | None:
    secret = settings.wechat_app_secret.get_secret_value()
    if not settings.wechat_app_id or not secret:
        return None
    return WeChatApi(settings.wechat_api_base_url, settings.wechat_app_id, secret)


def _location(latitude: str, longitude: str) -> Location | None:
    try:
        point = Location(float(latitude), float(longitude))
    except ValueError:
        logger.warning("wechat: a location message without numeric coordinates")
        return None
    valid = math.isfinite(point.latitude) and math.isfinite(point.longitude)
    if not valid or not (-90 <= point.latitude <= 90 and -180 <= point.longitude <= 180):
        logger.warning("wechat: a location message with out-of-range coordinates")
        return None
    return point
