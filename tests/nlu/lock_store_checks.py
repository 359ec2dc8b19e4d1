"""Run in the Rasa venv: two lock stores on one Redis (two Rasa servers) taking one citizen's
turns at the same moment. Prints `@@` and JSON: for each store class, the tickets issued and
the most turns that held the lock at once."""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid

from rasa.core.lock_store import RedisLockStore

from nlu.lock_store import AtomicRedisLockStore
from tests.nlu.venv_answer import answer

TURNS_PER_SERVER = 12


def tickets_issued_at_once(store_class: type, prefix: str) -> list[int]:
    """Threads of two stores issue tickets for one conversation, all released at once."""
    servers = [store_class(host="127.0.0.1", port=6379, db=0, key_prefix=prefix) for _ in range(2)]
    start = threading.Barrier(2 * TURNS_PER_SERVER)
    tickets: list[int] = []

    def issue(server: RedisLockStore) -> None:
        start.wait()
        tickets.append(server.issue_ticket("citizen-1"))

    threads = [
        threading.Thread(target=issue, args=(server,))
        for server in servers
        for _ in range(TURNS_PER_SERVER)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    servers[0].delete_lock("citizen-1")
    return sorted(tickets)


async def most_turns_inside_at_once(store_class: type, prefix: str) -> int:
    """Turns of one citizen on two servers: how many held the lock at the same time."""
    servers = [store_class(host="127.0.0.1", port=6379, db=0, key_prefix=prefix) for _ in range(2)]
    inside = most = 0

    async def turn(server: RedisLockStore) -> None:
        nonlocal inside, most
        async with server.lock("citizen-2", wait_time_in_seconds=0.01):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.02)
            inside -= 1

    await asyncio.gather(*(turn(servers[n % 2]) for n in range(2 * TURNS_PER_SERVER)))
    leftover = servers[0].get_lock("citizen-2")
    assert leftover is None, "the queue of a finished conversation is deleted"
    return most


prefix = sys.argv[1] if len(sys.argv) > 1 else f"lc{uuid.uuid4().hex[:8]}"
result = {
    name: {
        "tickets": tickets_issued_at_once(store, f"{prefix}{name}"),
        "most_inside": asyncio.run(most_turns_inside_at_once(store, f"{prefix}{name}")),
    }
    for name, store in (("atomic", AtomicRedisLockStore), ("rasa", RedisLockStore))
}
answer(result)
