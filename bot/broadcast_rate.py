"""One send rate per channel and bot, shared by every broadcast worker (Redis) or kept in-process.

Telegram counts messages per bot token (about 30 a second to different chats, up to 1,000 with
paid broadcasts) and answers 429 with `retry_after` when a bot goes faster: that pause holds for
the whole bot, so it must hold for every worker sending through the same token.

The limiter hands out send slots `1 / rate` apart: each sender reserves the next free slot (one
Lua script: read the next slot, move it on, return the wait) and sleeps until it, so N workers
together send at the configured rate and none polls. A pause (429) moves the next slot past its
end and is checked again after each wait, so a slot reserved before the pause is not used
inside it. Redis's clock decides, so workers on machines whose clocks disagree share one pace.
A worker killed while it waits wastes one slot (1/rate seconds), nothing more.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Protocol

import redis.asyncio

from core.settings import Settings

DEFAULT_TELEGRAM_RATE = 30.0
PAID_TELEGRAM_RATE = 1000.0


class SendRate(Protocol):
    async def wait_turn(self) -> None:
        """Return when this sender may send one message."""
        ...

    async def pause(self, seconds: float) -> None:
        """Nobody sends through this bot for `seconds` (the platform said 429)."""
        ...


class InProcessRate:
    """Slots for the senders of this process only (no REDIS_URL: one worker)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._paused_until = 0.0

    async def wait_turn(self) -> None:
        while True:
            now = time.monotonic()
            start = max(self._next, now, self._paused_until)
            self._next = start + self.interval
            if start > now:
                await asyncio.sleep(start - now)
            if time.monotonic() >= self._paused_until:
                return

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


# KEYS[1] the next free slot, KEYS[2] paused until (Redis seconds); ARGV[1] the interval.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = math.max(slot, now, paused)
redis.call('SET', KEYS[1], tostring(start + tonumber(ARGV[1])), 'EX', 3600)
return tostring(start - now)
"""
# KEYS[2] paused until; ARGV[1] seconds to pause (0: only read). Returns seconds still paused.
_PAUSE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted > 0 and now + wanted > paused then
  paused = now + wanted
  redis.call('SET', KEYS[1], tostring(paused), 'EX', math.ceil(wanted) + 1)
end
return tostring(math.max(0, paused - now))
"""


class RedisRate:
    """Slots shared by every worker using the same Redis and key (channel and bot)."""

    def __init__(self, client: redis.asyncio.Redis, key: str, rate: float) -> None:
        self.client = client
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.keys = [f"{key}:next", f"{key}:paused"]
        self._reserve = client.register_script(_RESERVE)
        self._pause = client.register_script(_PAUSE)

    async def wait_turn(self) -> None:
        while True:
            wait = float(await self._reserve(keys=self.keys, args=[self.interval]))
            if wait > 0:
                await asyncio.sleep(wait)
            if float(await self._pause(keys=self.keys[1:], args=[0])) <= 0:
                return

    async def pause(self, seconds: float) -> None:
        await self._pause(keys=self.keys[1:], args=[seconds])


def channel_rates(settings: Settings) -> dict[str, float]:
    """Messages per second per channel for broadcasts, from the settings."""
    telegram = settings.telegram_broadcast_rate or (
        PAID_TELEGRAM_RATE if settings.telegram_allow_paid_broadcast else DEFAULT_TELEGRAM_RATE
    )
    return {
        "telegram": telegram,
        "wechat": settings.wechat_broadcast_rate,
        "web": settings.web_broadcast_rate,
    }


def rate_key(settings: Settings, channel: str) -> str:
    """The Redis key of one channel's limit: per bot token (Telegram), per account (WeChat)."""
    identity = {
        "telegram": settings.telegram_bot_token.get_secret_value(),
        "wechat": settings.wechat_app_id,
    }.get(channel, "")
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]  # never the token itself
    return f"{settings.redis_key_prefix}broadcast:rate:{channel}:{digest}"


def send_rates(settings: Settings, client: redis.asyncio.Redis | None) -> dict[str, SendRate]:
    """A limiter per channel: shared through Redis when a client is given, else in-process."""
    rates = channel_rates(settings)
    if client is None:
        return {channel: InProcessRate(rate) for channel, rate in rates.items()}
    return {
        channel: RedisRate(client, rate_key(settings, channel), rate)
        for channel, rate in rates.items()
    }
