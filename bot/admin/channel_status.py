"""Whether each channel this gateway serves reaches its platform, for the admins' health page.

- Telegram: one `getWebhookInfo` call to the Bot API (read-only, no side effect). It answers
  whether the token is accepted, the mode (webhook or polling), how many updates wait, and
  Telegram's own last error delivering to our webhook.
- WeChat: one `stable_token` call in its normal mode (getStableAccessToken), which says
  whether WeChat accepts the app id and secret. WeChat keeps that token apart from the one
  `GET /cgi-bin/token` gives the gateway and does not renew it while it lives, so asking
  changes nothing (10,000 a minute allowed). `/cgi-bin/token` itself would replace the
  gateway's token, so it is never asked here.
- Web chat: served by this gateway, so up when the page answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from core.logging_setup import scrub_secrets
from core.settings import Settings

PROBE_SECONDS = 5.0
PROBLEM_CHARS = 300


@dataclass(frozen=True)
class ChannelState:
    """One channel: "up", "down" or "unchecked", and what the platform said."""

    name: str
    state: str
    mode: str = ""  # Telegram: "webhook" or "polling"
    waiting: int | None = None  # Telegram: updates not yet taken by the gateway
    problem: str = ""  # the platform's own words (or why it did not answer), secrets hidden
    problem_at: str = ""  # when Telegram last failed to reach the webhook (UTC)


async def channel_states(names: list[str], settings: Settings) -> list[ChannelState]:
    """The state of every channel in `names`, probed at the same time."""
    return list(await asyncio.gather(*(_state(name, settings) for name in names)))


async def _state(name: str, settings: Settings) -> ChannelState:
    if name == "telegram":
        return await _telegram(settings)
    if name == "wechat":
        return await _wechat(settings)
    if name == "web":
        return ChannelState(name, "up")
    return ChannelState(name, "unchecked")


async def _telegram(settings: Settings) -> ChannelState:
    token = settings.telegram_bot_token.get_secret_value()
    url = f"{settings.telegram_api_base_url.rstrip('/')}/bot{token}/getWebhookInfo"
    try:
        async with httpx.AsyncClient(timeout=PROBE_SECONDS) as client:
            response = await client.get(url)
        answer: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as error:
        # The exception's text can hold the URL, which holds the token: only its kind.
        return ChannelState("telegram", "down", problem=f"no answer ({type(error).__name__})")
    if not answer.get("ok"):
        said = str(answer.get("description") or f"HTTP {response.status_code}")
        return ChannelState("telegram", "down", problem=_shown(said, token))
    info = answer.get("result") or {}
    last_error = str(info.get("last_error_message") or "")
    error_date = info.get("last_error_date")
    return ChannelState(
        "telegram",
        "up",
        mode="webhook" if info.get("url") else "polling",
        waiting=int(info.get("pending_update_count") or 0),
        problem=_shown(last_error, token),
        problem_at=(
            datetime.fromtimestamp(int(error_date), UTC).strftime("%Y-%m-%d %H:%M:%S")
            if last_error and error_date
            else ""
        ),
    )


async def _wechat(settings: Settings) -> ChannelState:
    secret = settings.wechat_app_secret.get_secret_value()
    body = {
        "grant_type": "client_credential",
        "appid": settings.wechat_app_id,
        "secret": secret,
        "force_refresh": False,
    }
    url = f"{settings.wechat_api_base_url.rstrip('/')}/cgi-bin/stable_token"
    try:
        async with httpx.AsyncClient(timeout=PROBE_SECONDS) as client:
            response = await client.post(url, json=body)
        answer: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as error:
        return ChannelState("wechat", "down", problem=f"no answer ({type(error).__name__})")
    if answer.get("access_token"):  # not kept: only whether WeChat gave one
        return ChannelState("wechat", "up")
    said = f"{answer.get('errcode', response.status_code)} {answer.get('errmsg', '')}".strip()
    return ChannelState("wechat", "down", problem=_shown(said, secret))


def _shown(text: str, token: str) -> str:
    hidden = text.replace(token, "***") if token else text
    return scrub_secrets(hidden)[:PROBLEM_CHARS]
