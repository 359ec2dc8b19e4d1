"""Shared pieces of the WeChat tests: settings for the fake WeChat servers, a served gateway."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import SecretStr

from bot.channels import wechat
from bot.channels.web import WebChannel
from bot.conversation import Conversation
from bot.stack import free_port, gateway_app
from core.settings import Settings
from tests.fakes.loopback import serving_in_this_loop
from tests.fakes.wechat_api import FakeWeChatApi, WeChatCallbacks, random_aes_key

WECHAT_TOKEN = "learncityTestToken42"


def wechat_settings(
    api: FakeWeChatApi,
    data_dir: Path,
    database_url: str,
    *,
    aes_key: str | None = None,
    reply_budget_seconds: float = 4.0,
) -> Settings:
    """Settings for a gateway on a free port whose WeChat account talks to the fake API."""
    return Settings(
        learncity_data_dir=data_dir,
        database_url=database_url,
        gateway_port=free_port(),
        wechat_token=SecretStr(WECHAT_TOKEN),
        wechat_app_id=api.app_id,
        wechat_app_secret=SecretStr(api.app_secret),
        wechat_aes_key=SecretStr(aes_key if aes_key is not None else random_aes_key()),
        wechat_api_base_url=api.base_url,
        wechat_reply_budget_seconds=reply_budget_seconds,
    )


def callbacks_for(settings: Settings, gateway_url: str) -> WeChatCallbacks:
    """WeChat's side of the account these settings describe."""
    return WeChatCallbacks(
        gateway_url,
        token=settings.wechat_token.get_secret_value(),
        app_id=settings.wechat_app_id,
        encoding_aes_key=settings.wechat_aes_key.get_secret_value(),
    )


@contextlib.asynccontextmanager
async def serving_gateway(
    settings: Settings, conversation: Conversation
) -> AsyncIterator[tuple[str, wechat.WeChatChannel]]:
    """The real gateway (every configured channel) on loopback, and its WeChat channel."""
    channel = wechat.WeChatChannel(conversation, settings)
    async with serving_in_this_loop(
        gateway_app(settings, conversation, [WebChannel(conversation), channel]),
        settings.gateway_port,
    ) as url:
        yield url, channel
