"""Shared pieces of the Telegram tests: settings pointed at the fake Bot API, a served gateway."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.conversation import Conversation
from bot.stack import free_port, gateway_app
from core.settings import Settings
from tests.fakes.loopback import serving_in_this_loop
from tests.fakes.telegram_api import ApiCall, FakeTelegramApi

WEBHOOK_SECRET = "test-secret_4f9a2c"


def telegram_settings(
    telegram: FakeTelegramApi, data_dir: Path, database_url: str, *, webhook: bool
) -> Settings:
    """Settings for a gateway on a free port talking to the fake Bot API (polling or webhook)."""
    port = free_port()
    return Settings(
        learncity_data_dir=data_dir,
        database_url=database_url,
        gateway_port=port,
        telegram_bot_token=SecretStr(telegram.token),
        telegram_api_base_url=telegram.base_url,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook" if webhook else "",
        telegram_webhook_secret=SecretStr(WEBHOOK_SECRET if webhook else ""),
    )


@contextlib.asynccontextmanager
async def serving_gateway(settings: Settings, conversation: Conversation) -> AsyncIterator[str]:
    """The real gateway app (with every configured channel) served by uvicorn on loopback."""
    async with serving_in_this_loop(
        gateway_app(settings, conversation), settings.gateway_port
    ) as url:
        yield url


def texts(calls: list[ApiCall]) -> str:
    """Everything the bot wrote in these calls, as one string."""
    return "\n".join(str(call.params.get("text", "")) for call in calls)


def inline_buttons(calls: list[ApiCall]) -> list[dict[str, Any]]:
    return [
        button
        for call in calls
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]
