"""Rasa's lock store on Redis, shared by several Rasa servers, gives every turn of a citizen its
own ticket and lets one turn at a time in (nlu/lock_store.py). Rasa's own `RedisLockStore` is
run beside it on the same load to show why it is replaced (its numbers are printed, not
asserted: its race shows only on some runs). Needs Redis at 127.0.0.1:6379."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.cluster.support import REDIS_URL
from tests.nlu.rasa_venv import run_in_rasa_venv
from tests.services import require_redis

CHECKS = Path(__file__).with_name("lock_store_checks.py")
TURNS = 24  # TURNS_PER_SERVER on each of two servers


def _run_on_redis(script: str | Path, separator: str = "") -> tuple[Any, str]:
    """`script` run in the Rasa venv with a key prefix of its own as its argument (a missing
    Redis fails the test, naming it); every key under the prefix deleted afterwards. What
    the script printed, and the prefix."""
    client = require_redis(REDIS_URL)
    prefix = f"lctest{uuid.uuid4().hex[:8]}{separator}"
    try:
        return run_in_rasa_venv(script, prefix), prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def test_simultaneous_turns_on_two_servers_get_unique_tickets_and_go_in_one_at_a_time() -> None:
    seen, _ = _run_on_redis(CHECKS)
    rasa = seen["rasa"]
    print(
        f"\nRasa's RedisLockStore: {TURNS - len(set(rasa['tickets']))} duplicate tickets, "
        f"up to {rasa['most_inside']} turns inside at once"
    )
    assert seen["atomic"]["tickets"] == list(range(TURNS))
    assert seen["atomic"]["most_inside"] == 1


PREFIX_CHECK = """
import json, sys
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

base = sys.argv[1]
seen = {}
for kind in ("nlu.lock_store.AtomicRedisLockStore", "redis"):
    stores = {
        prefix: LockStore.create(
            EndpointConfig(url="127.0.0.1", port=6379, db=0, type=kind, key_prefix=base + prefix)
        )
        for prefix in ("a-b:", "ab:")
    }
    tickets = {prefix: store.issue_ticket("citizen-9") for prefix, store in stores.items()}
    keys = {prefix: store.key_prefix + "citizen-9" for prefix, store in stores.items()}
    for store in stores.values():
        store.delete_lock("citizen-9")
    seen[kind] = {"tickets": tickets, "keys": keys}
print("@@" + json.dumps(seen))
"""


def test_prefixes_that_differ_only_in_punctuation_keep_their_own_lock_keys() -> None:
    """REDIS_KEY_PREFIX `a-b:` and `ab:` (two deployments on one Redis): Rasa's own store
    takes alphanumeric prefixes only and drops any other to its default `lock:` (the
    alphanumeric characters nlu/serving.py used to keep made both `ab`), so the second
    deployment's citizen waits behind the first's turn (ticket 1); ours keeps each as given."""
    seen, base = _run_on_redis(PREFIX_CHECK)
    ours, rasa = seen["nlu.lock_store.AtomicRedisLockStore"], seen["redis"]
    assert ours["keys"] == {
        "a-b:": f"{base}a-b:lock:citizen-9",
        "ab:": f"{base}ab:lock:citizen-9",
    }
    assert ours["tickets"] == {"a-b:": 0, "ab:": 0}  # each deployment its own queue
    # What is replaced: both prefixes dropped to Rasa's default, one queue for both.
    assert rasa["keys"]["a-b:"] == rasa["keys"]["ab:"]
    assert sorted(rasa["tickets"].values()) == [0, 1]


WAIT_CHECK = """
import asyncio, json, sys, time
from nlu.lock_store import AtomicRedisLockStore

async def main(prefix):
    first, second = (AtomicRedisLockStore(host="127.0.0.1", port=6379, db=0, key_prefix=prefix)
                     for _ in range(2))
    released = []
    held = asyncio.Event()

    async def holding():
        async with first.lock("citizen-3"):
            held.set()
            await asyncio.sleep(0.3)  # the first turn's length
        released.append(time.monotonic())

    async def waiting():
        await held.wait()  # arrives while the first turn holds the lock
        async with second.lock("citizen-3"):
            return time.monotonic()

    _, entered = await asyncio.gather(holding(), waiting())
    return entered - released[0]

print("@@" + json.dumps({"gap": asyncio.run(main(sys.argv[1]))}))
"""


def test_a_turn_waiting_for_the_lock_goes_in_soon_after_the_turn_before_ends() -> None:
    """Rasa's store looks at a held lock once a second, so the next turn of a citizen (sent
    to the other server) could sit up to 1 s after the turn before it ended; ours looks every
    LOCK_WAIT_SECONDS (0.05 s)."""
    gap = _run_on_redis(WAIT_CHECK, ":")[0]["gap"]
    print(f"\nentered {gap * 1000:.0f} ms after the turn before released the lock")
    assert gap < 0.5  # with a look once a second: 0.75 s (it looked at 0.05 s, next at 1.05 s)


SHARED_QUEUE_CHECK = """
import json, sys
from rasa.core.lock_store import RedisLockStore
from nlu.lock_store import AtomicRedisLockStore

base = sys.argv[1]
ours = AtomicRedisLockStore(host="127.0.0.1", port=6379, db=0, key_prefix=base + ":")
rasas = RedisLockStore(host="127.0.0.1", port=6379, db=0, key_prefix=base)
assert ours.key_prefix == rasas.key_prefix, (ours.key_prefix, rasas.key_prefix)
seen = {}
seen["issued"] = [ours.issue_ticket("c"), ours.issue_ticket("c"), rasas.issue_ticket("c")]
seen["rasa_reads"] = [t.number for t in rasas.get_lock("c").tickets]
ours.cleanup("c", 0)
seen["after_finishing_0"] = [t.number for t in rasas.get_lock("c").tickets]
ours.cleanup("c", 1)
ours.cleanup("c", 2)
seen["after_finishing_all"] = rasas.get_lock("c")
ours.issue_ticket("d", lock_lifetime=-1)  # expired at once
seen["after_an_expired_one"] = [ours.issue_ticket("d")]
ours.cleanup("d", 0)
seen["queue_left"] = rasas.get_lock("d")
print("@@" + json.dumps(seen))
"""


def test_the_scripts_keep_the_queue_as_rasa_does_and_drop_expired_tickets() -> None:
    """Issuing and finishing tickets are Lua scripts: the queue they leave is the one Rasa's
    own store reads and writes (its JSON), tickets are numbered on from the queue, an expired
    ticket is dropped, and an empty queue is deleted."""
    seen, _ = _run_on_redis(SHARED_QUEUE_CHECK)
    assert seen == {
        "issued": [0, 1, 2],
        "rasa_reads": [0, 1, 2],
        "after_finishing_0": [1, 2],
        "after_finishing_all": None,
        "after_an_expired_one": [0],
        "queue_left": None,
    }
