"""The gateway's one path to the assistant: an internal message in, internal replies out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.edge import Refusal, check_incoming, refusal_table
from bot.kind_replies import EMPTY_MESSAGE, PLEASE_WAIT, SLOW_DOWN, TRY_AGAIN
from bot.known_language import KnownLanguages, in_known_language
from bot.messages import IncomingMessage, Reply
from bot.rasa_servers import CONVERSATION_HEADER, RasaServers
from bot.shared_state import Flood
from bot.shared_state import flood_control as shared_flood_control
from citizens import ErasureIncompleteError, erase_citizen, remaining_rows
from core.database import session_scope
from core.settings import Settings
from helpdesk import (
    LEAVE_PAYLOAD,
    MIN_CONFIDENCE,
    desk_turn,
    has_open_chat,
    is_for_the_assistant,
    payload_intent,
)
from nlu.serving import WEBHOOK_PATH

FAILED_TURN_KEY = "learncity_failed_turn"  # what nlu/rasa_channel.py answers a failed turn with

logger = logging.getLogger(__name__)
RASA_CONNECTIONS = 64  # open connections to the Rasa servers, kept for reuse


class Conversation:
    """Sends citizens' messages to the Rasa server and turns its answers into `Reply` objects.

    If Rasa (or the action server behind it) cannot answer, the citizen gets a kind
    "try again in a moment" in their language and the operator gets a log line; the next
    message simply tries again, so the conversation recovers once the server is back.
    With several Rasa servers, a citizen always goes to the same one (by a hash of the
    sender id), so their turns stay in order without a lock shared between servers; with
    `shared_lock` (Rasa's lock store on Redis) any server takes any turn (bot/rasa_servers.py).
    """

    def __init__(
        self,
        rasa_url: str | Sequence[str],
        *,
        timeout: float = 10.0,
        database_url: str | None = None,
        flood_control: Flood | None = None,
        auth_token: str = "",
        shared_lock: bool = False,
    ) -> None:
        urls = [rasa_url] if isinstance(rasa_url, str) else list(rasa_url)
        self.auth_token = auth_token  # RASA_AUTH_TOKEN: Rasa's HTTP API (health) refuses others
        # Rasa's webhook (nlu/rasa_channel.py) takes a turn only with the same secret.
        self._webhook_headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else {}
        self.servers = RasaServers(urls, shared_lock=shared_lock)
        self.rasa_urls = self.servers.urls
        self.rasa_url = self.rasa_urls[0]
        self.database_url = database_url
        self.flood_control = flood_control
        # Keep a connection per citizen being answered, and drop idle ones after 2 s: Rasa's
        # server closes them at 5 s, and reusing one it is closing would fail the turn.
        self._client = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=RASA_CONNECTIONS,
                max_keepalive_connections=RASA_CONNECTIONS,
                keepalive_expiry=2.0,
            ),
        )
        self._last_failure_logged = 0.0
        # The language each citizen was last answered in, for the gateway's own sentences.
        self.languages = KnownLanguages(database_url)

    async def handle(
        self,
        message: IncomingMessage,
        *,
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> list[Reply]:
        """Answer one message: the one failure boundary every channel's turn goes through.

        `before` (a channel's own bookkeeping, e.g. recording that the citizen can be reached)
        runs inside the boundary: whatever fails in the turn (that, Rasa, the database, the
        erase after "forget me") gives the citizen a kind "try again" in their language and
        the operator a log line, never silence and never a reply that claims what did not
        happen. Never raises (except cancellation)."""
        try:
            check_incoming(message)  # size and shape caps, before anything reaches Rasa
        except Refusal as refusal:
            logger.info("refused a %s message at the edge: %s", message.channel, refusal.reason)
            return [await self.kind_reply(refusal_table(refusal), message)]
        try:
            if before is not None:
                await before()
            return await self._turn(message)
        except _UnavailableError as error:
            self._log_failure(str(error), None)
        except (OperationalError, InterfaceError) as error:
            # The gateway's own reads (help desk, erase) share Rasa's database: say so plainly.
            reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            self._log_failure(
                f"a {message.channel} turn failed: the conversation database is unavailable: "
                f"{reason}",
                None,
            )
        except Exception as error:
            self._log_failure(f"a {message.channel} turn failed: {type(error).__name__}", error)
        return [await self.kind_reply(TRY_AGAIN, message)]

    async def kind_reply(self, table: dict[str, str], message: IncomingMessage) -> Reply:
        """One of the gateway's own sentences (a table by language) for this message, in the
        language the citizen is known by (bot/known_language.py). Never raises."""
        language = await self.languages.language_for(
            message.sender_id, message.text, message.language_hint
        )
        return in_known_language(table, language)

    async def _turn(self, message: IncomingMessage) -> list[Reply]:
        text = message.rasa_text()
        if self.flood_control is not None:
            verdict = self.flood_control.check(message.sender_id)
            if verdict == "warn":
                logger.warning("flood control: slowing down a %s sender", message.channel)
                return [await self.kind_reply(SLOW_DOWN, message)]
            if verdict == "remind":  # still flooding: at most once per bucket refill
                return [await self.kind_reply(PLEASE_WAIT, message)]
            if verdict == "drop":
                return []
        if not text:  # spaces, zero-width characters or direction marks only
            return [await self.kind_reply(EMPTY_MESSAGE, message)]
        desk = await self._desk_answer(message.sender_id, text)
        if desk is not None:
            return desk  # an emoji is for the person at the help desk too
        if not any(char.isalnum() for char in text):
            # Emoji or punctuation only: no word for the NLU to read (its classifier fails on a
            # message without tokens, Rasa answers nothing), so ask in words.
            return [await self.kind_reply(EMPTY_MESSAGE, message)]
        rasa_url, items = await self._ask_rasa(message, text)
        if not isinstance(items, list):
            raise _UnavailableError(f"Rasa server at {rasa_url} answered {type(items).__name__}")
        for item in items:  # nlu/rasa_channel.py: the turn failed inside Rasa (e.g. database)
            custom = item.get("custom") if isinstance(item, dict) else None
            if isinstance(custom, dict) and FAILED_TURN_KEY in custom:
                raise _UnavailableError(
                    f"the turn failed in the Rasa server at {rasa_url}: {custom[FAILED_TURN_KEY]}"
                )
        replies = [Reply.from_rasa(item) for item in items if isinstance(item, dict)]
        if not replies:
            # Every turn of our dialogue answers something: silence means an action failed.
            raise _UnavailableError(
                f"Rasa answered nothing for a {message.channel} message; is the action server up?"
            )
        if any(reply.erase_conversation for reply in replies):
            # The reply says "erased": it may only be sent once the erase really happened.
            await asyncio.to_thread(self._erase_conversation, message.sender_id)
            self.languages.forget(message.sender_id)
        else:
            self.languages.remember(message.sender_id, replies)
        return [reply for reply in replies if not reply.is_empty()]

    async def _desk_answer(self, sender_id: str, text: str) -> list[Reply] | None:
        """While the city's help desk holds (or queues) this citizen the bot is silent: the
        message is stored for the person first (helpdesk/citizen_turn.py). None when the
        assistant answers: no hand-over is open (one index lookup, the common case), or the
        message is a privacy request, which is the citizen's right at any moment."""
        if text != LEAVE_PAYLOAD:
            if not await asyncio.to_thread(has_open_chat, self.database_url, sender_id):
                return None
            intent = payload_intent(text) or await self._read_intent(sender_id, text)
            if await asyncio.to_thread(is_for_the_assistant, self.database_url, sender_id, intent):
                return None
        return await asyncio.to_thread(desk_turn, self.database_url, sender_id, text)

    async def _read_intent(self, sender_id: str, text: str) -> str | None:
        """The intent the NLU reads in a message to the help desk, when it is confident; None
        when it is not or Rasa cannot say (the message then goes to the person, never lost)."""
        rasa_url = self.servers.for_sender(sender_id)
        params = {"token": self.auth_token} if self.auth_token else None
        try:
            response = await self._client.post(
                f"{rasa_url}/model/parse", json={"text": text}, params=params
            )
            response.raise_for_status()
            intent = response.json().get("intent") or {}
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            logger.warning("Rasa at %s could not read a help-desk message: %r", rasa_url, error)
            return None
        if float(intent.get("confidence") or 0.0) < MIN_CONFIDENCE:
            return None
        return str(intent.get("name") or "") or None

    async def _ask_rasa(self, message: IncomingMessage, text: str) -> tuple[str, object]:
        """The turn's answer and the server that gave it. A server that refuses the connection
        never saw the turn, so the next candidate (if any) is asked instead."""
        body = {"sender": message.sender_id, "message": text, "metadata": message.metadata()}
        headers = {
            **self._webhook_headers,
            CONVERSATION_HEADER: self.servers.conversation_key(message.sender_id),
        }
        failure = "no Rasa server"
        for rasa_url in self.servers.candidates(message.sender_id):
            try:
                response = await self._client.post(
                    f"{rasa_url}{WEBHOOK_PATH}", json=body, headers=headers
                )
                response.raise_for_status()
                return rasa_url, response.json()
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                self.servers.refused(rasa_url)
                failure = f"Rasa server at {rasa_url} did not answer: {error!r}"
            except (httpx.HTTPError, ValueError) as error:
                raise _UnavailableError(
                    f"Rasa server at {rasa_url} did not answer: {error!r}"
                ) from None
        raise _UnavailableError(failure)

    def rasa_url_for(self, sender_id: str) -> str:
        """The Rasa server that holds this citizen's conversation when there is no shared lock
        (stable across restarts)."""
        return self.servers.for_sender(sender_id)

    def _log_failure(self, detail: str, error: BaseException | None) -> None:
        """Log once per 30 s with the traceback, quietly in between (an outage is not a flood)."""
        now = time.monotonic()
        if now - self._last_failure_logged > 30:
            self._last_failure_logged = now
            logger.error("citizen asked to try again: %s", detail, exc_info=error)
        else:
            logger.debug("citizen asked to try again: %s", detail)

    def _erase_conversation(self, sender_id: str) -> None:
        """After `forget_me`, Rasa has persisted the turn: now erase everything kept about the
        citizen (citizens.registry: records, Rasa's events, deliveries, web outbox) in one
        transaction; raises, so the turn fails into "try again", if anything is left."""
        with session_scope(self.database_url) as session:
            erased = erase_citizen(session, sender_id)
            left = remaining_rows(session, sender_id)
            if left:
                raise ErasureIncompleteError(f"rows left after erasure in {sorted(left)}")
        logger.info("erased citizen data on request: %s", erased)

    async def close(self) -> None:
        await self._client.aclose()


class _UnavailableError(Exception):
    """The assistant behind the gateway could not answer (already described for the log)."""


def conversation_for(
    settings: Settings, rasa_url: str | Sequence[str] | None = None
) -> Conversation:
    """The gateway's conversation as the settings describe it (servers, timeout, flood control)."""
    return Conversation(
        rasa_url or settings.rasa_urls,
        timeout=settings.rasa_timeout_seconds,
        database_url=settings.sqlalchemy_url,
        # Shared by every gateway replica when REDIS_URL is set (bot/shared_state.py).
        flood_control=shared_flood_control(settings),
        auth_token=settings.rasa_auth_token.get_secret_value(),
        # With Redis the Rasa servers share Rasa's lock store: any of them takes any turn.
        shared_lock=bool(settings.redis_url),
    )
