"""Rasa's lock store on Redis, shared by several Rasa servers, gives every turn of a citizen its
own ticket and lets one turn at a time in (nlu/lock_store.py). Rasa's own `RedisLockStore` is
run beside it on the same load to show why it is replaced (its numbers are printed, not
asserted: its race shows only on some runs). Needs Redis at 127.0.0.1:6379."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.cluster.support import REDIS_URL
from tests.nlu.rasa_venv import run_in_rasa_venv
from tests.services import require_redis

CHECKS = Path(__file__).with_name("lock_store_checks.py")
TURNS = 24  # TURNS_PER_SERVER on each of two servers


def test_simultaneous_turns_on_two_servers_get_unique_tickets_and_go_in_one_at_a_time() -> None:
    client = require_redis(REDIS_URL)  # a missing Redis fails the test, naming it
    prefix = f"lctest{uuid.uuid4().hex[:8]}"
    try:
        seen = run_in_rasa_venv(CHECKS, prefix)
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()
    rasa = seen["rasa"]
    print(
        f"\nRasa's RedisLockStore: {TURNS - len(set(rasa['tickets']))} duplicate tickets, "
        f"up to {rasa['most_inside']} turns inside at once"
    )
    assert seen["atomic"]["tickets"] == list(range(TURNS))
    assert seen["atomic"]["most_inside"] == 1
