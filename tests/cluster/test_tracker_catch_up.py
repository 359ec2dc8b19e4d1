"""Turns alternating between two Rasa servers: each reads only the rows the other appended.

The caching tracker store (nlu/tracker_store.py) used to read and replay the whole session
whenever another server had written a turn, which with the lock store on Redis is nearly
every turn. It now applies the appended rows to the tracker it remembers; every read is
compared with Rasa's own `SQLTrackerStore` (tracker state: events, slots, latest message,
active loop), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from nlu.serving import TRACKER_STORE_TYPE, tracker_store_config
from tests.nlu.rasa_venv import run_in_rasa_venv

CHECKS = Path(__file__).with_name("tracker_catch_up_checks.py")


def test_alternating_servers_catch_up_from_appended_rows_as_rasa_reads_them(
    database_url: str,
) -> None:
    config = tracker_store_config(database_url)
    assert config.pop("type") == TRACKER_STORE_TYPE
    options = make_url(database_url).query.get("options")
    if options:  # the test schema of a PostgreSQL run
        config["query"] = {"options": options}
    if "url" in config:
        config["host"] = config.pop("url")
    seen = run_in_rasa_venv(CHECKS, stdin=config)
    reads = seen["reads"]
    assert seen["equal"] == [True] * 19, seen["equal"]
    # Turns 0-2: nothing remembered yet (a server remembers what it has read or stored
    # after reading).
    assert all(kinds == ["database"] for kinds in reads[:3]), reads[:3]
    # Turns 3-12: the other server appended one turn each time; only those rows are read.
    assert all(kinds == ["appended"] for kinds in reads[3:13]), reads[3:13]
    # Each such turn takes one pooled connection to read (the check and the appended rows)
    # and one to store (the check and the insert, one transaction): each checkout costs a
    # liveness ping and a reset, so four round trips fewer than one connection per query.
    assert seen["checkouts"][3:13] == [[1, 1]] * 10, seen["checkouts"]
    # Turn 13: server one began a new session at turn 12; turns 14-15 catch up again.
    assert reads[13] == ["database"]
    assert reads[14:16] == [["appended"], ["appended"]]
    # A row deleted behind the servers' backs: turn 17 (server two, which wrote turn 15) and
    # turn 18 (server one, which missed turn 17 and the deletion) read the session again.
    assert reads[16:18] == [["database"], ["database"]]
    assert reads[18] == ["appended"]
    assert seen["final_slot"] == "ru"  # turn 19's
