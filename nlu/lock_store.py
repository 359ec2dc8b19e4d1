"""Rasa's `RedisLockStore` with its ticket operations made atomic, for several Rasa servers.

Runs inside the Rasa server (Python 3.10 venv); endpoints.yml names it as the lock store's
`type` when REDIS_URL is set (nlu/serving.py). Rasa 3.6's `RedisLockStore` keeps a
conversation's ticket queue as one JSON value and changes it by GET, change, SET: two servers
taking turns of one citizen at the same moment can both read "no ticket", both issue ticket 1
and both go ahead, and one turn's events overwrite the other's. tests/cluster/test_replicas.py
(eight turns of one citizen sent at once, alternately to two servers) lost a turn that way.
Here each change to the queue is atomic, so tickets are unique and served in order: issuing
a ticket and finishing one (deleting an empty queue) are Lua scripts that Redis runs whole,
one round trip each, and issuing answers whether the new ticket is served at once, so a turn
that finds nobody before it (nearly every turn) goes in without reading the queue again: 2
round trips a turn where Rasa's own store makes 3 and a `WATCH` transaction for each change
made 7. Dropping expired tickets while a turn waits stays a `WATCH`/`MULTI`/`EXEC`
transaction (retried when another server changed the queue meanwhile). The queue is stored
as Rasa stores it (its JSON, each ticket a JSON string), so either kind of store reads it.

Two more differences from Rasa's own:
- the key prefix (REDIS_KEY_PREFIX) is used as given, before Rasa's `lock:`: Rasa keeps only
  an alphanumeric prefix and silently drops every other character (or the whole prefix), so
  deployments sharing one Redis with prefixes `a-b:` and `ab:` would have shared lock keys,
  and one citizen id in both would have waited on the other's turns. `learncity:` gives
  `learncity:lock:`, the keys Rasa made of it;
- a turn waiting for the lock asks again every LOCK_WAIT_SECONDS instead of Rasa's 1 s, so a
  citizen's next message does not sit up to a second behind a turn that already ended.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from nlu.rasa_version import require_tested_rasa

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

from rasa.core.lock import Ticket, TicketLock  # noqa: E402
from rasa.core.lock_store import (  # noqa: E402
    DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX,
    LOCK_LIFETIME,
    LockError,
    RedisLockStore,
)

LOCK_WAIT_SECONDS = 0.05  # between two looks at a held lock (Rasa's default: 1 s)

# KEYS[1] the queue; ARGV conversation id, now, lifetime (the issuing server's clock, as
# Rasa's). Drops expired tickets, appends the next; returns {its number, number now served}.
_ISSUE = """
local now = tonumber(ARGV[2])
local kept = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  for _, text in ipairs(cjson.decode(raw)['tickets'] or {}) do
    local ticket = cjson.decode(text)
    if not (now > tonumber(ticket['expires'])) then table.insert(kept, ticket) end
  end
end
local number = 0
if #kept > 0 then number = kept[#kept]['number'] + 1 end
table.insert(kept, {number = number, expires = now + tonumber(ARGV[3])})
local texts = {}
for index, ticket in ipairs(kept) do
  texts[index] = cjson.encode({number = ticket['number'], expires = ticket['expires']})
end
redis.call('SET', KEYS[1], cjson.encode({conversation_id = ARGV[1], tickets = texts}))
return {number, kept[1]['number']}
"""

# KEYS[1] the queue; ARGV ticket number, now. Drops it and expired tickets; deletes the
# queue when nobody else waits.
_FINISH = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local now = tonumber(ARGV[2])
local lock = cjson.decode(raw)
local texts = {}
for _, text in ipairs(lock['tickets'] or {}) do
  local ticket = cjson.decode(text)
  if ticket['number'] ~= tonumber(ARGV[1]) and not (now > tonumber(ticket['expires'])) then
    table.insert(texts, text)
  end
end
if #texts == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], cjson.encode({conversation_id = lock['conversation_id'], tickets = texts}))
end
return #texts
"""


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket queue changes are atomic (Lua scripts, a transaction)."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # built by Rasa from endpoints.yml
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
        prefix = kwargs.pop("key_prefix", None) or ""
        super().__init__(**kwargs)
        self.key_prefix = f"{prefix}{DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX}"
        self._issue_script = self.red.register_script(_ISSUE)
        self._finish_script = self.red.register_script(_FINISH)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = LOCK_WAIT_SECONDS,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock, looked at every `wait_time_in_seconds` while another turn of
        this conversation holds it (Rasa's server and agent call this without a wait time)."""
        number, serving, expires = self._issue(conversation_id, lock_lifetime)
        try:
            if serving == number:  # nobody before this turn: in at once
                yield TicketLock(conversation_id, deque([Ticket(number, expires)]))
            else:
                yield await self._acquire_lock(conversation_id, number, wait_time_in_seconds)
        finally:
            self.cleanup(conversation_id, number)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._issue(conversation_id, lock_lifetime)[0]

    def _issue(self, conversation_id: str, lock_lifetime: float) -> tuple[int, int, float]:
        """A new ticket: its number, the number now served, when it expires."""
        now = time.time()
        try:
            number, serving = self._issue_script(
                keys=[self.key_prefix + conversation_id],
                args=[conversation_id, repr(now), repr(float(lock_lifetime))],
            )
        except Exception as error:  # as Rasa's own: the turn fails with a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        return int(number), int(serving), now + lock_lifetime

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish this ticket; delete the queue if nobody else waits (in one script, so a
        ticket issued meanwhile by another server is never deleted with it)."""
        self._finish_script(
            keys=[self.key_prefix + conversation_id], args=[ticket_number, repr(time.time())]
        )

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock | None], tuple[TicketLock | None, Any]],
    ) -> Any:
        """Read the queue, `change` it, write it back (or delete it when `change` gives None),
        retried until no other server changed it in between."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> Any:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            if lock is None:
                pipe.multi()
                return None
            changed, result = change(lock)
            pipe.multi()
            if changed is None:
                pipe.delete(key)
            else:
                pipe.set(key, changed.dumps())
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)
