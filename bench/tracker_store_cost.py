"""CPU per turn of the caching tracker store on PostgreSQL, with and without its changes.

Run in the Rasa venv (the store runs inside the Rasa server):

    .venv-rasa/bin/python -m bench.tracker_store_cost [--turns 400] [--rounds 3]

Each turn is what a Rasa turn asks of the store: `retrieve` (answered from memory after the
first), five new events, `save`, over 20 conversations in turn. Variants, each on a fresh
store and measured in turn `--rounds` times so they share the background: "ping" checks
every pooled connection before use (SQLAlchemy's `pool_pre_ping`, the store until
2026-12-02) and "query" reads the highest row id with a second query after the insert
(before `RETURNING`), and reads inside a transaction (a BEGIN and a ROLLBACK round trip
around each). Reported: the Rasa process's CPU ms per turn (every thread), the
PostgreSQL server processes' CPU ms per turn (their /proc times), wall ms per turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import sqlalchemy as sa

from bench.report import print_table, write_results

VARIANTS = {  # name: (ping before use, RETURNING, reads without a transaction)
    "before (ping, second query)": (True, False, False),
    "no ping": (False, False, False),
    "RETURNING": (True, True, False),
    "reads without BEGIN/ROLLBACK": (True, False, True),
    "all three (now)": (False, True, True),
}


def _store(url: str, schema: str, ping: bool, returning: bool, autocommit_reads: bool):  # type: ignore[no-untyped-def]
    from rasa.core.tracker_store import create_engine_kwargs
    from rasa.shared.core.domain import Domain

    from nlu.tracker_store import CachingSQLTrackerStore

    parsed = sa.engine.make_url(url)
    store = CachingSQLTrackerStore(
        domain=Domain.load("nlu/domain"),
        dialect="postgresql",
        host=parsed.host,
        port=parsed.port,
        db=parsed.database,
        username=parsed.username,
        password=parsed.password,
        query={"options": f"-csearch_path={schema}"},
    )
    if ping:  # the store as it was: every checkout pinged
        engine_url = store.engine.url
        store.engine.dispose()
        store.engine = sa.create_engine(
            engine_url, pool_pre_ping=True, **create_engine_kwargs(engine_url)
        )
        store.sessionmaker = sa.orm.session.sessionmaker(bind=store.engine)
    store._returns_ids = returning
    store._read_options = {"isolation_level": "AUTOCOMMIT"} if autocommit_reads else {}
    return store


def _server_cpu(pids: set[int]) -> float:
    """CPU seconds of these PostgreSQL server processes (/proc: psutil is not in the Rasa venv)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


async def _run(store, turns: int, conversations: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    backends: set[int] = set()
    sa.event.listen(
        store.engine, "connect", lambda dbapi, _record: backends.add(dbapi.get_backend_pid())
    )
    senders = [f"bench:{uuid.uuid4().hex[:8]}:{n}" for n in range(conversations)]
    for sender in senders:  # the first turn of each: Rasa's own read, not measured
        await store.save(await store.get_or_create_tracker(sender))
    cpu_before, server_before = time.process_time(), _server_cpu(backends)
    started = time.perf_counter()
    for number in range(turns):
        tracker = await store.retrieve(senders[number % conversations])
        tracker.update(UserUttered(f"hello {number}", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("utter_greet"))
        tracker.update(BotUttered("hi"))
        tracker.update(SlotSet("detected_language", "en"))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before  # every thread of this process
    return {
        "rasa_cpu_ms": cpu * 1000 / turns,
        "postgres_cpu_ms": (_server_cpu(backends) - server_before) * 1000 / turns,
        "wall_ms": wall * 1000 / turns,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LEARNCITY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.database_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    measured: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    load_before = os.getloadavg()[0]
    try:
        for _ in range(args.rounds):
            for name, variant in VARIANTS.items():
                store = _store(args.database_url, schema, *variant)
                measured[name].append(asyncio.run(_run(store, args.turns, args.conversations)))
                store.engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    medians = {
        name: {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}
        for name, runs in measured.items()
    }
    load = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    print_table(
        f"tracker store on PostgreSQL: {args.turns} turns x {args.rounds} rounds, median; "
        f"load {load[0]} → {load[1]}",
        ["variant", "Rasa CPU ms/turn", "PostgreSQL CPU ms/turn", "wall ms/turn"],
        [[name, m["rasa_cpu_ms"], m["postgres_cpu_ms"], m["wall_ms"]] for name, m in medians.items()],
    )  # fmt: skip
    summary = {"arguments": vars(args), "load_average": load, "medians": medians,
               "rounds": measured}  # fmt: skip
    print(f"\nresults: {write_results('tracker-store-cost', summary)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
