"""What gateway replicas must share (de-duplication, WeChat nonces and choices, flood control), in Redis or here.

With `REDIS_URL` empty a gateway keeps this state in its own memory, as one machine needs.
With `REDIS_URL` set every replica behind a load balancer sees the same state:
- "seen once" keys (a WeChat MsgId): `SET key 1 NX EX ttl`, so exactly one replica answers a
  message the platform delivered twice, to two replicas;
- turn claims (a Telegram update id): `SET key busy NX EX lease`, then `SET key done EX ttl`
  once answered. A replica killed while answering leaves only its lease, which lapses, so
  Telegram's next delivery of that update (it got no 200) is answered by another replica;
  one that arrives while the first replica still answers is told to come back later;
- WeChat nonces (`NonceStore` of bot/channels/wechat_replay.py): `SET key digest NX EX ttl`,
  then a comparison, so a nonce replayed to another replica with another body is refused;
- WeChat's numbered choices: the payloads offered to a citizen, `SET key json EX 3600`;
- flood control: the same token bucket as bot/flood.py, kept in a Redis hash and updated by one
  Lua script (atomic, Redis's clock), so a citizen's messages count on every replica.

Flood control stays synchronous (the `Conversation` calls it without awaiting): one local
round trip is a fraction of a millisecond. If Redis does not answer, nobody is left unanswered:
flood control lets messages through, and de-duplication and nonces fall back to this process's
memory (a message redelivered to the *same* replica is still answered once), each saying so in
the log at most once per 30 s.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections import OrderedDict
from typing import Protocol

import redis
import redis.asyncio

from bot.channels.wechat_render import NumberedChoices, typed_number
from bot.channels.wechat_replay import InProcessNonces, NonceStore
from bot.flood import FloodControl
from core.settings import Settings

logger = logging.getLogger(__name__)

_REDIS_TIMEOUT_SECONDS = 0.5
_OUTAGE_PAUSE_SECONDS = 5.0  # after a failed flood check, skip Redis this long


class SeenOnce(Protocol):
    async def first(self, key: str, ttl_seconds: float) -> bool:
        """True for the first caller of `key` within `ttl_seconds` (on any replica)."""
        ...


class Flood(Protocol):
    def check(self, sender_id: str, now: float | None = None) -> str:
        """'allow', 'warn', 'remind' or 'drop' (see bot/flood.py)."""
        ...


class InProcessSeen:
    """Keys seen by this process, each for `ttl_seconds`, at most `max_keys` at once."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._expires: OrderedDict[str, float] = OrderedDict()

    async def first(self, key: str, ttl_seconds: float) -> bool:
        now = time.monotonic()
        while self._expires and next(iter(self._expires.values())) <= now:
            self._expires.popitem(last=False)
        if key in self._expires:
            return False
        self._expires[key] = now + ttl_seconds
        while len(self._expires) > self.max_keys:
            self._expires.popitem(last=False)
        return True


NEW, BUSY, DONE = "new", "busy", "done"


class TurnClaims(Protocol):
    async def claim(self, key: str, lease_seconds: float) -> str:
        """NEW: this caller answers `key`; BUSY: another caller is answering it now (for up to
        `lease_seconds`); DONE: it was answered."""
        ...

    async def finish(self, key: str, ttl_seconds: float) -> None:
        """`key` was answered: DONE for `ttl_seconds`."""
        ...


class InProcessClaims:
    """Turn claims of this process only, each kept at most `ttl`, at most `max_keys` at once."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._claims: OrderedDict[str, tuple[str, float]] = OrderedDict()  # key -> (state, until)

    async def claim(self, key: str, lease_seconds: float) -> str:
        now = time.monotonic()
        state, until = self._claims.get(key, (NEW, 0.0))
        if until > now:
            return state
        self._set(key, BUSY, now + lease_seconds)
        return NEW

    async def finish(self, key: str, ttl_seconds: float) -> None:
        self._set(key, DONE, time.monotonic() + ttl_seconds)

    def _set(self, key: str, state: str, until: float) -> None:
        self._claims.pop(key, None)
        self._claims[key] = (state, until)
        while len(self._claims) > self.max_keys:
            self._claims.popitem(last=False)


class OutageLog:
    """One error line per 30 s while Redis does not answer, so an outage is not a log flood."""

    def __init__(self, what: str, meanwhile: str = "using this process's memory meanwhile") -> None:
        self.what = what
        self.meanwhile = meanwhile
        self._last = -3600.0

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last > 30:
            self._last = now
            logger.error(
                "%s: Redis did not answer (%s); %s",
                self.what,
                type(error).__name__,
                self.meanwhile,
            )


class RedisSeen:
    """Keys seen by any replica: `SET key 1 NX EX ttl` (this process's memory if Redis fails)."""

    def __init__(self, client: redis.asyncio.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._fallback = InProcessSeen()
        self._outage = OutageLog(f"de-duplication ({prefix})")

    async def first(self, key: str, ttl_seconds: float) -> bool:
        try:
            claimed = await self.client.set(
                f"{self.prefix}{key}", b"1", nx=True, ex=max(1, int(ttl_seconds))
            )
        except redis.RedisError as error:
            self._outage.failed(error)
            return await self._fallback.first(key, ttl_seconds)
        return bool(claimed)


class RedisClaims:
    """Turn claims every replica sees (this process's memory while Redis does not answer)."""

    def __init__(self, client: redis.asyncio.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._fallback = InProcessClaims()
        self._outage = OutageLog(f"turn claims ({prefix})")

    async def claim(self, key: str, lease_seconds: float) -> str:
        name = f"{self.prefix}{key}"
        try:
            if await self.client.set(name, BUSY, nx=True, ex=max(1, int(lease_seconds))):
                return NEW
            state = await self.client.get(name)
        except redis.RedisError as error:
            self._outage.failed(error)
            return await self._fallback.claim(key, lease_seconds)
        # Gone between the two calls (the lease lapsed): come back later, then it is free.
        return DONE if state == DONE.encode() else BUSY

    async def finish(self, key: str, ttl_seconds: float) -> None:
        try:
            await self.client.set(f"{self.prefix}{key}", DONE, ex=max(1, int(ttl_seconds)))
        except redis.RedisError as error:
            self._outage.failed(error)
            await self._fallback.finish(key, ttl_seconds)


class RedisNonces:
    """WeChat's (timestamp, nonce) pairs remembered for every replica, with their body's digest."""

    def __init__(self, client: redis.asyncio.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._fallback = InProcessNonces()
        self._outage = OutageLog("WeChat nonces")

    async def claim(self, key: str, digest: str, ttl_seconds: float) -> bool:
        name = f"{self.prefix}{key}"
        try:
            if await self.client.set(name, digest.encode(), nx=True, ex=max(1, int(ttl_seconds))):
                return True
            known = await self.client.get(name)
        except redis.RedisError as error:
            self._outage.failed(error)
            return await self._fallback.claim(key, digest, ttl_seconds)
        # Expired between the two calls: the pair is stale by now, so refusing is safe.
        return known is not None and hmac.compare_digest(known, digest.encode())


# One bucket per sender: KEYS[1] the hash; ARGV rate, burst, ttl. Redis's own clock, so
# replicas whose clocks disagree still share one bucket. Mirrors FloodControl.check.
_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'warned', 'noticed')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
local warned = state[3] == '1'
local noticed = tonumber(state[4]) or 0
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
if tokens >= burst then warned = false end
local verdict
if tokens >= 1 then
  tokens = tokens - 1
  verdict = 'allow'
elseif not warned then
  warned = true
  noticed = now
  verdict = 'warn'
elseif rate > 0 and now - noticed >= burst / rate then
  noticed = now
  verdict = 'remind'
else
  verdict = 'drop'
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now),
  'warned', warned and '1' or '0', 'noticed', tostring(noticed))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return verdict
"""


class RedisFloodControl:
    """`FloodControl`'s token bucket per sender, kept in Redis for every replica."""

    def __init__(self, client: redis.Redis, prefix: str, rate: float, burst: int) -> None:
        self.client = client
        self.prefix = prefix
        self.rate = rate
        self.burst = burst
        # A bucket left alone refills completely within burst / rate seconds; then it is noise.
        self._ttl = max(1, int(burst / rate) + 1) if rate > 0 else 3600
        self._script = client.register_script(_TOKEN_BUCKET)
        self._paused_until = 0.0

    def check(self, sender_id: str, now: float | None = None) -> str:
        """'allow', 'warn', 'remind' or 'drop'; `now` is ignored (Redis's clock decides)."""
        if time.monotonic() < self._paused_until:
            return "allow"
        try:
            verdict = self._script(
                keys=[f"{self.prefix}{sender_id}"], args=[self.rate, self.burst, self._ttl]
            )
        except redis.RedisError as error:
            self._paused_until = time.monotonic() + _OUTAGE_PAUSE_SECONDS
            logger.error(
                "flood control: Redis did not answer (%s); letting messages through for %.0f s",
                type(error).__name__,
                _OUTAGE_PAUSE_SECONDS,
            )
            return "allow"
        return verdict.decode() if isinstance(verdict, bytes) else str(verdict)


class RedisNumberedChoices(NumberedChoices):
    """WeChat's numbered choices (bot/channels/wechat_render.py) kept in Redis, so a citizen's
    "2" picks the second button whichever gateway takes it, also after a worker's push. Also
    kept in this process's memory, which answers while Redis does not."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_seconds: float = 3600.0) -> None:
        super().__init__(ttl_seconds=ttl_seconds)
        self.client = client
        self.prefix = prefix
        self._outage = OutageLog("WeChat numbered choices")

    def offer(self, sender_id: str, payloads: list[str]) -> None:
        super().offer(sender_id, payloads)
        key = f"{self.prefix}{sender_id}"
        try:
            if payloads:
                self.client.set(key, json.dumps(payloads), ex=max(1, int(self.ttl_seconds)))
            else:
                self.client.delete(key)
        except redis.RedisError as error:
            self._outage.failed(error)

    def payload_for(self, sender_id: str, text: str) -> str | None:
        number = typed_number(text)
        if number is None:
            return None
        try:
            stored = self.client.get(f"{self.prefix}{sender_id}")
        except redis.RedisError as error:
            self._outage.failed(error)
            return super().payload_for(sender_id, text)
        payloads = json.loads(stored) if stored else []
        return payloads[number - 1] if 1 <= number <= len(payloads) else None


def async_client(settings: Settings) -> redis.asyncio.Redis:
    """The gateway's asynchronous Redis client, with timeouts short enough for a callback."""
    # Short timeouts: WeChat gives a callback 5 s in all, and a lost Redis must not eat them.
    return redis.asyncio.Redis.from_url(
        settings.redis_url,
        socket_timeout=_REDIS_TIMEOUT_SECONDS * 2,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS * 2,
    )


def seen_once(settings: Settings, namespace: str) -> SeenOnce:
    """De-duplication for one kind of key ("telegram:update", "wechat:msg"): Redis if set."""
    if not settings.redis_url:
        return InProcessSeen()
    client = async_client(settings)
    return RedisSeen(client, f"{settings.redis_key_prefix}{namespace}:")


def turn_claims(settings: Settings, namespace: str) -> TurnClaims:
    """Who answers a message delivered again until answered ("telegram:update"): Redis if set."""
    if not settings.redis_url:
        return InProcessClaims()
    return RedisClaims(async_client(settings), f"{settings.redis_key_prefix}{namespace}:")


def nonce_store(settings: Settings) -> NonceStore:
    """WeChat's nonce memory: Redis if REDIS_URL is set, else this process's."""
    if not settings.redis_url:
        return InProcessNonces()
    client = async_client(settings)
    return RedisNonces(client, f"{settings.redis_key_prefix}wechat:nonce:")


def numbered_choices(settings: Settings) -> NumberedChoices:
    """WeChat's numbered choices: in Redis if REDIS_URL is set, else this process's."""
    if not settings.redis_url:
        return NumberedChoices()
    client = redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=_REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
    )
    return RedisNumberedChoices(client, f"{settings.redis_key_prefix}wechat:choices:")


def flood_control(settings: Settings) -> Flood:
    """Flood control with the configured rate and burst: Redis if REDIS_URL is set."""
    rate, burst = settings.flood_messages_per_second, settings.flood_burst
    if not settings.redis_url:
        return FloodControl(rate, burst)
    client = redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=_REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
    )
    return RedisFloodControl(client, f"{settings.redis_key_prefix}flood:", rate, burst)
