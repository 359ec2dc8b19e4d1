"""Open-loop sweep of the cluster bench: each set-up at fixed offered rates, one after another.

`python -m bench.cluster_bench --rate 10,20,30,40,54` starts the set-ups (both by default,
at once, so each pair of windows sees the same background), then for each rate measures
each set-up in turn: `--warmup` seconds at the rate, `--seconds` measured, and every message
sent then followed to its end (tests/cluster/offered_load.py). Each set-up first runs 20 s
at the lowest rate, not reported (the action servers load e5 at their first search, and the
like). A set-up *sustains* a rate
when every message due in the window got the assistant's answer (none lost, none "try
again", none unreachable), none was answered twice, and p95 from due to reply is at most
`--p95-ms`. Once a set-up misses a rate its higher rates are skipped (`--every-rate` runs
them too): the sweep is for finding the highest rate sustained, and a saturated set-up's
backlog takes long to drain.

CPU per message is the roles' CPU from the start of the window until the last message sent
ended, over the replies that ended in that time; the idle cost (3 ms a second per gateway)
is not taken out: at these rates it is under 0.3 ms per message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.cluster_bench import (
    ROLES,
    SUPPORT,
    ConnectionSampler,
    RoleMeter,
    single_stack,
    two_of_each,
)
from bench.report import print_table
from tests.cluster.offered_load import OfferedLoad
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi

QUIET_CPU_SHARE = 0.05  # between rates, wait until the roles use under 5 % of a core
QUIET_TIMEOUT_SECONDS = 90.0
WARM_UP_SECONDS = 20.0  # each set-up, once, at the lowest rate, before the sweep (not reported)


@dataclass
class SetUp:
    name: str
    url: str
    database_url: str
    meter: RoleMeter
    postgres: bool  # count PostgreSQL's connections (the cluster's database)


def parse_rates(text: str) -> list[float]:
    """`10,20,30` → [10.0, 20.0, 30.0]; an operator's typo is named, not ignored."""
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--rate: not a list of numbers: {text!r}") from error
    if not rates or any(rate <= 0 for rate in rates):
        raise argparse.ArgumentTypeError(f"--rate: give positive messages a second: {text!r}")
    return sorted(rates)


@contextlib.contextmanager
def _set_ups(
    telegram: FakeTelegramApi, wechat: FakeWeChatApi, model: Path, args: argparse.Namespace
) -> Iterator[list[SetUp]]:
    with contextlib.ExitStack() as stack:
        set_ups = []
        if args.only in (None, "single"):
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-single-"))
            url, database_url, meter = stack.enter_context(
                single_stack(Path(folder), telegram, model)
            )
            set_ups.append(SetUp("single stack", url, database_url, meter, postgres=False))
        if args.only in (None, "cluster"):
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cluster-"))
            cluster, meter = stack.enter_context(
                two_of_each(Path(folder), telegram, wechat, model, args.balancer)
            )
            set_ups.append(
                SetUp("two of each role", cluster.url, cluster.database_url, meter, postgres=True)
            )
        yield set_ups


async def _until_quiet(meter: RoleMeter) -> float:
    """Wait until the roles have finished the last rate's work (a saturated set-up's Rasa
    servers go on with turns the gateways gave up on); the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < QUIET_TIMEOUT_SECONDS:
        meter.start()
        await asyncio.sleep(1.0)
        used = meter.cpu_used()
        if sum(used[role] for role in ROLES) < QUIET_CPU_SHARE:
            break
    return round(time.monotonic() - started, 1)


async def measure_rate(
    set_up: SetUp, telegram: FakeTelegramApi, rate: float, args: argparse.Namespace
) -> dict:
    """One rate on one set-up: `args.warmup` s, then `args.seconds` s measured (also reads
    `args.citizens`, `args.p95_ms`)."""
    web = args.citizens // 4
    load = OfferedLoad(
        set_up.url,
        set_up.database_url,
        telegram,
        web_citizens=web,
        telegram_citizens=args.citizens - web,
        rate=rate,
    )
    quiet_after = await _until_quiet(set_up.meter)
    load_before = os.getloadavg()[0]
    async with load.running():
        await asyncio.sleep(args.warmup)
        set_up.meter.start()
        since = time.monotonic()
        await asyncio.sleep(args.seconds)
        until = time.monotonic()
    cpu = set_up.meter.cpu_used()  # until every message sent has ended
    ended = time.monotonic()
    window = load.window(since, until)
    replies = sum(
        1
        for turn in load.turns
        if turn.seconds is not None and since <= turn.sent_at + turn.seconds <= ended
    )
    report = await load.settled()  # answered twice / stored twice: the whole run, warm-up too
    result = {
        **window.as_dict(),
        "duplicated": len(report.doubled),
        "stored_twice": len(report.stored_twice),
        "slowed": report.slowed,
        "cpu_ms_per_message": {
            role: round(seconds * 1000 / max(1, replies), 1) for role, seconds in cpu.items()
        },
        "cpu_seconds_metered": round(ended - since, 1),
        "memory_mb_per_replica": set_up.meter.memory_mb_per_replica(),
        "cpu_floor_only": sorted(set_up.meter.ended),
        "load_average_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "quiet_wait_seconds": quiet_after,
        "silent_examples": report.silent[:5],
        "doubled_examples": report.doubled[:5],
    }
    result["sustained"] = (
        window.sent > 0
        and window.answered == window.sent
        and result["duplicated"] == 0
        and window.p95_ms <= args.p95_ms
    )
    return result


def sweep(
    telegram: FakeTelegramApi, wechat: FakeWeChatApi, model: Path, args: argparse.Namespace
) -> dict[str, dict]:
    """Every rate of `args.rate` on each set-up; results keyed "<set-up> @ <rate>/s"."""
    results: dict[str, dict] = {}
    missed: set[str] = set()
    with _set_ups(telegram, wechat, model, args) as set_ups:
        for set_up in set_ups:  # first searches load e5 in the action servers, and the like
            warm_up = argparse.Namespace(**{**vars(args), "seconds": WARM_UP_SECONDS})
            warmed = asyncio.run(measure_rate(set_up, telegram, min(args.rate), warm_up))
            print(f"{set_up.name}, warm-up at {min(args.rate):g}/s: {_summary(warmed)}")
        for rate in args.rate:
            for set_up in set_ups:
                if set_up.name in missed and not args.every_rate:
                    continue
                connections = (
                    ConnectionSampler(set_up.database_url)
                    if set_up.postgres
                    else contextlib.nullcontext()
                )
                with connections as sampler:
                    measured = asyncio.run(measure_rate(set_up, telegram, rate, args))
                if sampler is not None:
                    measured["postgres_connections_most"] = sampler.most
                results[f"{set_up.name} @ {rate:g}/s"] = {"set_up": set_up.name, **measured}
                if not measured["sustained"]:
                    missed.add(set_up.name)
                print(f"{set_up.name} @ {rate:g}/s: {_summary(measured)}", flush=True)
    return results


def _summary(result: dict) -> str:
    return (
        f"{result['answered_per_second']:g} answered/s, p50 {result['p50_ms']:g} ms, "
        f"p95 {result['p95_ms']:g} ms, sent {result['sent']}, lost {result['lost']}, "
        f"duplicated {result['duplicated']}, try again {result['try_again']}, "
        f"{'sustained' if result['sustained'] else 'missed'}"
    )


def highest_sustained(results: dict[str, dict]) -> dict[str, float | None]:
    """Per set-up, the highest offered rate it sustained (None: not even the lowest)."""
    best: dict[str, float | None] = {}
    for result in results.values():
        name = result["set_up"]
        best.setdefault(name, None)
        if result["sustained"]:
            best[name] = max(best[name] or 0.0, result["offered_per_second"])
    return best


def print_sweep(results: dict[str, dict], args: argparse.Namespace) -> None:
    rows = [
        [
            result["set_up"],
            f"{result['offered_per_second']:g}",
            result["answered_per_second"],
            result["p50_ms"],
            result["p95_ms"],
            f"{result['sent']} = {result['answered']} + {result['try_again']} + "
            f"{result['unreachable']} + {result['lost']}",
            result["duplicated"],
            result["late_starts"],
            " / ".join(
                ("≥" if role in result["cpu_floor_only"] else "")
                + f"{result['cpu_ms_per_message'][role]:g}"
                for role in ROLES
            ),
            ", ".join(
                f"{role} {result['cpu_ms_per_message'][role]:g}"
                for role in SUPPORT
                if role in result["cpu_ms_per_message"]
            ),
            " / ".join(f"{result['memory_mb_per_replica'][role]:g}" for role in ROLES),
            " → ".join(str(x) for x in result["load_average_before_after"]),
            "yes" if result["sustained"] else "no",
        ]
        for result in results.values()
    ]
    print_table(
        f"open loop: {args.citizens} citizens (1 in 4 on the web page), {args.warmup:g} s warm-up, "
        f"{args.seconds:g} s measured per rate, {os.cpu_count()} cores",
        ["set-up", "offered/s", "answered/s", "p50 ms", "p95 ms",
         "sent = answered + try again + unreachable + lost", "duplicated", "late starts",
         "CPU ms/msg gateway/rasa/actions", "CPU ms/msg also in",
         "MB per replica gateway/rasa/actions", "load 1 min", "sustained"],
        rows,
    )  # fmt: skip
    for name, rate in highest_sustained(results).items():
        said = f"{rate:g} messages a second" if rate is not None else "none of the rates"
        print(f"{name}: highest offered rate sustained (p95 ≤ {args.p95_ms:g} ms, all answered, "
              f"none twice): {said}")  # fmt: skip
