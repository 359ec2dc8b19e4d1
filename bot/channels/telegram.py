"""The Telegram channel: python-telegram-bot in front of the gateway's `Conversation`.

Two ways to receive updates, chosen by the settings:
- long polling (development): TELEGRAM_WEBHOOK_URL empty; `lifespan` polls `getUpdates`.
- webhook (production): TELEGRAM_WEBHOOK_URL set; `lifespan` registers it with `setWebhook`
  and the gateway serves `POST /telegram/webhook`, checking TELEGRAM_WEBHOOK_SECRET.
Either way updates are processed concurrently across chats and in order within a chat.
Nothing here runs when TELEGRAM_BOT_TOKEN is empty. See docs/channels-telegram.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor
from telegram.request import HTTPXRequest

from bot.channels.telegram_handlers import ChannelContext, add_handlers
from bot.channels.telegram_render import CallbackPayloads, Reachability, TelegramRenderer
from bot.channels.telegram_updates import ReadableUpdatesRequest, build_update
from bot.conversation import Conversation
from bot.messages import Reply
from bot.shared_state import BUSY, DONE, turn_claims
from core.settings import Settings

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
MAX_CONCURRENT_UPDATES = 512
# Redeliveries of an unacknowledged update come within minutes; an hour of ids is ~30 MB of
# Redis at 100 updates a second.
UPDATE_ID_TTL_SECONDS = 3600
# Longer than a turn can take (Rasa's timeout, then the sends): a replica killed while answering
# holds an update this long before another replica may answer Telegram's next delivery of it.
UPDATE_LEASE_SECONDS = 30
BOT_API_CONNECTIONS = 64  # open connections to the Bot API, kept for reuse
_VALID_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

COMMANDS = {
    "en": [
        "Start",
        "What I can do",
        "Choose your language",
        "See what I keep about you",
        "Erase what I keep about you",
        "Stop the festival news",
    ],
    "zh": [
        "开始",
        "我能做什么",
        "选择语言",
        "查看我保存的关于你的信息",
        "删除我保存的关于你的信息",
        "停止接收学习节消息",
    ],
    "es": [
        "Empezar",
        "Qué puedo hacer",
        "Elegir idioma",
        "Ver qué guardo sobre ti",
        "Borrar lo que guardo sobre ti",
        "Dejar de recibir las noticias del festival",
    ],
    "fr": [
        "Commencer",
        "Ce que je peux faire",
        "Choisir la langue",
        "Voir ce que je garde sur vous",
        "Effacer ce que je garde sur vous",
        "Ne plus recevoir les nouvelles du festival",
    ],
    "ar": [
        "ابدأ",
        "ماذا أستطيع أن أفعل",
        "اختر لغتك",
        "اعرض ما أحتفظ به عنك",
        "احذف ما أحتفظ به عنك",
        "أوقف أخبار المهرجان",
    ],
    "ru": [
        "Начать",
        "Что я умею",
        "Выбрать язык",
        "Что я храню о вас",
        "Удалить то, что я храню о вас",
        "Не присылать новости фестиваля",
    ],
    "uk": [
        "Почати",
        "Що я вмію",
        "Обрати мову",
        "Що я зберігаю про вас",
        "Видалити те, що я зберігаю про вас",
        "Не надсилати новини фестивалю",
    ],
}
COMMAND_NAMES = ["start", "help", "language", "mydata", "forget", "stop"]


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Many chats at once, but one update at a time per chat, so a citizen's turns stay in order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._chat_locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._chat_locks.setdefault(chat.id, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
                self._chat_locks.pop(chat.id, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class TelegramChannel:
    """One bot application serving one gateway's conversation."""

    name = "telegram"

    def __init__(self, conversation: Conversation, settings: Settings) -> None:
        self.settings = settings
        self.webhook_mode = bool(settings.telegram_webhook_url)
        if self.webhook_mode:
            _check_webhook_secret(settings)
        builder = (
            _builder(settings)
            .concurrent_updates(ChatOrderedUpdateProcessor(MAX_CONCURRENT_UPDATES))
            # Long polling holds one request open for up to 30 s; an update the library cannot
            # build must not stop it (bot/channels/telegram_updates.py).
            .get_updates_request(ReadableUpdatesRequest(connection_pool_size=1, read_timeout=30))
        )
        if self.webhook_mode:
            builder = builder.updater(None)
        self.application = builder.build()
        reachability = Reachability(conversation.database_url or settings.sqlalchemy_url)
        renderer = TelegramRenderer(self.application.bot, reachability, CallbackPayloads())
        add_handlers(self.application, ChannelContext(conversation, renderer, reachability))
        self.renderer = renderer
        # Shared by every gateway replica when REDIS_URL is set (bot/shared_state.py).
        self.update_ids = turn_claims(settings, "telegram:update")

    def routes(self) -> list[BaseRoute]:
        """`POST /telegram/webhook` in webhook mode; nothing when polling."""
        if not self.webhook_mode:
            return []
        return [Route(WEBHOOK_PATH, self.receive, methods=["POST"])]

    def sender(self) -> TelegramSender:
        """Pushes through this channel's bot (initialized while the gateway runs)."""
        return TelegramSender(self.settings, renderer=self.renderer)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Initialize, register the webhook or start polling; stop cleanly on exit."""
        application = self.application
        await application.initialize()
        try:
            await _publish_commands(application.bot)
            if self.webhook_mode:
                await application.bot.set_webhook(
                    url=self.settings.telegram_webhook_url,
                    secret_token=self.settings.telegram_webhook_secret.get_secret_value(),
                    allowed_updates=ALLOWED_UPDATES,
                )
                logger.info(
                    "telegram: webhook registered at %s", self.settings.telegram_webhook_url
                )
            await application.start()
            if not self.webhook_mode:
                assert application.updater is not None
                await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=10)
                logger.info("telegram: long polling as @%s", application.bot.username)
            yield
        finally:
            self.renderer.lanes.close()  # sends into a hanging Bot API must not hold the stop
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()

    async def receive(self, request: Request) -> Response:
        """`POST /telegram/webhook`: check the secret, answer the update, then say 200 (so an
        update whose gateway died is delivered again; each is answered once by any replica)."""
        expected = self.settings.telegram_webhook_secret.get_secret_value().encode()
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not given or not hmac.compare_digest(given, expected):
            client = request.client.host if request.client else "unknown"
            reason = "missing" if not given else "wrong"
            logger.warning(
                "telegram webhook: refused a request from %s (%s secret token)", client, reason
            )
            return Response(status_code=403)
        if not self.application.running:
            return Response(status_code=503)  # Telegram retries later
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            # An update the library cannot build is answered from what it can read (and 200,
            # or Telegram would deliver it again and hold the chat's later updates).
            update = build_update(data, self.application.bot)
        except (ValueError, TypeError, KeyError) as error:
            logger.warning("telegram webhook: not an Update (%s)", type(error).__name__)
            return Response(status_code=400)
        if update is None:
            return Response(status_code=200)
        key = str(update.update_id)
        claim = await self.update_ids.claim(key, UPDATE_LEASE_SECONDS)
        if claim == DONE:
            return Response(status_code=200)  # a redelivery of an answered update
        if claim == BUSY:
            return Response(status_code=503)  # another replica answers it: Telegram retries later
        # Answered before the 200: if this gateway dies meanwhile, Telegram delivers the update
        # again and another replica answers it once the lease lapses (bot/shared_state.py).
        application = self.application
        await application.update_processor.process_update(
            update, application.process_update(update)
        )
        await self.update_ids.finish(key, UPDATE_ID_TTL_SECONDS)
        return Response(status_code=200)


class TelegramSender:
    """Pushes replies outside a conversation turn (broadcasts); channel name "telegram"."""

    channel = "telegram"

    def __init__(self, settings: Settings, renderer: TelegramRenderer | None = None) -> None:
        self._owns_bot = renderer is None  # a channel's sender leaves its bot to the channel
        if renderer is None:
            bot = _builder(settings).updater(None).build().bot
            # A process without a gateway sends broadcasts: a 429 pauses every worker.
            renderer = TelegramRenderer(
                bot,
                Reachability(settings.sqlalchemy_url),
                CallbackPayloads(),
                wait_when_rate_limited=False,
                paid_broadcast=settings.telegram_allow_paid_broadcast,
            )
        self.bot = renderer.bot
        self.renderer = renderer
        self._ready = asyncio.Lock()
        self._initialized = False

    async def send(self, recipient_id: str, replies: list[Reply]) -> None:
        """Raises RecipientUnreachableError (after marking them) if the citizen blocked the bot."""
        async with self._ready:
            if not self._initialized:
                await self.bot.initialize()
                self._initialized = True
        await self.renderer.send_replies(int(recipient_id), replies)

    async def close(self) -> None:
        if self._owns_bot:
            await self.bot.shutdown()


def configured(settings: Settings) -> bool:
    """Whether the settings ask for Telegram (TELEGRAM_BOT_TOKEN is set)."""
    return bool(settings.telegram_bot_token.get_secret_value())


def sender(settings: Settings) -> TelegramSender | None:
    """A sender for a process without a gateway (the `broadcast` command); None if not set up."""
    return TelegramSender(settings) if configured(settings) else None


def _check_webhook_secret(settings: Settings) -> None:
    secret = settings.telegram_webhook_secret.get_secret_value()
    if not _VALID_SECRET.match(secret):
        raise ValueError(
            "TELEGRAM_WEBHOOK_SECRET must be set when TELEGRAM_WEBHOOK_URL is: 1-256 characters "
            "of A-Z, a-z, 0-9, _ and - (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )


def _builder(settings: Settings) -> ApplicationBuilder:  # type: ignore[type-arg]
    base = settings.telegram_api_base_url.rstrip("/")
    # httpx keeps only 20 idle connections by default: with hundreds of chats answered at once,
    # most sends would open a new connection to the Bot API. Keep as many as may be in use.
    request = HTTPXRequest(
        connection_pool_size=BOT_API_CONNECTIONS,
        httpx_kwargs={
            "limits": httpx.Limits(
                max_connections=BOT_API_CONNECTIONS, max_keepalive_connections=BOT_API_CONNECTIONS
            )
        },
    )
    return (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .request(request)
    )


async def _publish_commands(bot: Bot) -> None:
    """The command menu in each supported language; a failure here must not stop the bot."""
    try:
        for language, descriptions in COMMANDS.items():
            commands = [BotCommand(n, d) for n, d in zip(COMMAND_NAMES, descriptions, strict=True)]
            await bot.set_my_commands(
                commands, language_code=None if language == "en" else language
            )
    except TelegramError as error:
        logger.warning("telegram: could not publish the command menu: %s", error)
