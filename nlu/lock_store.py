"""Rasa's `RedisLockStore` with its ticket operations made atomic, for several Rasa servers.

Runs inside the Rasa server (Python 3.10 venv); endpoints.yml names it as the lock store's
`type` when REDIS_URL is set (nlu/serving.py). Rasa 3.6's `RedisLockStore` keeps a
conversation's ticket queue as one JSON value and changes it by GET, change, SET: two servers
taking turns of one citizen at the same moment can both read "no ticket", both issue ticket 1
and both go ahead, and one turn's events overwrite the other's. tests/cluster/test_replicas.py
(eight turns of one citizen sent at once, alternately to two servers) lost a turn that way.
Here each change to the queue (issue a ticket, drop expired ones, finish one and delete an
empty queue) runs as a Redis transaction watching the key (`WATCH`, `MULTI`, `EXEC`, retried
when another server changed it meanwhile), so tickets are unique and served in order.

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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from nlu.rasa_version import require_tested_rasa

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

from rasa.core.lock import TicketLock  # noqa: E402
from rasa.core.lock_store import (  # noqa: E402
    DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX,
    LOCK_LIFETIME,
    LockError,
    RedisLockStore,
)

LOCK_WAIT_SECONDS = 0.05  # between two looks at a held lock (Rasa's default: 1 s)


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket queue changes are Redis transactions."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # built by Rasa from endpoints.yml
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
        prefix = kwargs.pop("key_prefix", None) or ""
        super().__init__(**kwargs)
        self.key_prefix = f"{prefix}{DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX}"

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = LOCK_WAIT_SECONDS,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock, looked at every `wait_time_in_seconds` while another turn of
        this conversation holds it (Rasa's server and agent call this without a wait time)."""
        async with super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as lock:
            yield lock

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[TicketLock | None, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # as Rasa's own: the turn fails with a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired, create=False)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish this ticket; delete the queue if nobody else waits (in one transaction, so a
        ticket issued meanwhile by another server is never deleted with it)."""

        def finish(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish, create=False)

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock | None], tuple[TicketLock | None, Any]],
        create: bool = True,
    ) -> Any:
        """Read the queue, `change` it, write it back (or delete it when `change` gives None),
        retried until no other server changed it in between."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> Any:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            if lock is None and not create:
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
