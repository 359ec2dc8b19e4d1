"""Broadcasts killed with SIGKILL midway: every subscriber gets the announcement exactly once,
or is reported `unknown` by citizen.

Two stories. Without Redis, a real `learncity broadcast` (its own in-process worker) killed
three times, then run to the end. With Redis, three `learncity serve worker` processes on
PostgreSQL, one of them killed -9 at a random moment three times (and started again, as systemd
would) while the command waits for the report.

The Telegram stand-in (tests/fakes/telegram_api.py) counts what each chat really received.
The three kills land where a broadcast can die: while a send is in flight (the platform got
it, the process never heard back: the one case that must be reported `unknown`), during the
wait for the next rate-limit slot (nobody claimed: the next run sends it), and at a moment
picked by the clock.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import citizens
from core.database import session_scope, upgrade_database
from core.settings import REPOSITORY_ROOT
from tests.bot.broadcast_support import (
    duplicates_and_missing,
    sends_per_chat,
    start_broadcast,
    start_worker,
    stop_workers,
    subscribe_telegram_chats,
    worker_environment,
)
from tests.fakes.telegram_api import ApiCall, FakeTelegramApi
from tests.services import require_learncity_command
from tests.waiting import wait_until

SUBSCRIBERS = 40
RATE = 10.0  # messages per second: a 100 ms wait between sends, for the kill during the wait
TOKEN = "4242:KILL-test"


def _broadcast_process(url: str, telegram: FakeTelegramApi, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHAT_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "LEARNCITY_DATA_DIR": str(tmp_path / "data"),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
        }
    )
    learncity = require_learncity_command()
    command = [str(learncity), "broadcast", "--text", "Learning festival on Saturday"]
    command += ["--event-id", "evt-kill-test", "--rate", str(RATE), "--json"]
    return subprocess.Popen(
        command,
        env=env,
        cwd=REPOSITORY_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class _Killer:
    """Kills the running broadcast when the stand-in sees a given send (or a delay after it)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.at_send: int | None = None
        self.delay = 0.0
        self.sends = 0
        self.lock = threading.Lock()

    def arm(self, process: subprocess.Popen, at_send: int | None, delay: float = 0.0) -> None:
        with self.lock:
            self.process, self.at_send, self.delay, self.sends = process, at_send, delay, 0

    def __call__(self, call: ApiCall) -> None:
        if call.method != "sendMessage":
            return
        with self.lock:
            self.sends += 1
            if self.process is None or self.sends != self.at_send:
                return
            process = self.process
        if self.delay:
            threading.Timer(self.delay, process.send_signal, (signal.SIGKILL,)).start()
        else:
            process.send_signal(signal.SIGKILL)  # the request is in flight, unanswered


@pytest.mark.slow
def test_broadcast_killed_three_times_sends_each_citizen_once_and_reports_unknowns(
    tmp_path: Path, database_url: str
) -> None:
    upgrade_database(database_url)
    chats = list(range(1001, 1001 + SUBSCRIBERS))
    with session_scope(database_url) as session:
        for chat in chats:
            citizens.subscribe_events(session, f"telegram:{chat}", topic="festival", consent=True)

    killer = _Killer()
    with FakeTelegramApi(token=TOKEN) as telegram:
        telegram.add_listener(killer)
        kills = [
            ("during a send", 6, 0.0),
            ("during the rate-limit wait", 5, 0.05),
            ("by the clock", None, 0.0),
        ]
        killed_runs = []
        for name, at_send, delay in kills:
            process = _broadcast_process(database_url, telegram, tmp_path)
            killer.arm(process, at_send, delay)
            if at_send is None:
                # wait until it is sending, then kill at an arbitrary moment
                wait_until(
                    lambda: killer.sends >= 3 or process.poll() is not None,  # noqa: B023
                    60,
                    "the broadcast to send its third message",
                    interval=0.01,
                )
                time.sleep(0.37)  # not a wait: the kill lands at an arbitrary moment of sending
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=120)
            killed_runs.append((name, process.returncode))
        killer.arm(None, None)  # type: ignore[arg-type]
        final = _broadcast_process(database_url, telegram, tmp_path)
        stdout, stderr = final.communicate(timeout=120)
        sends = Counter(call.params.get("chat_id") for call in telegram.calls_to("sendMessage"))

    assert [code for _, code in killed_runs] == [-signal.SIGKILL] * 3, (killed_runs, stderr)
    report = json.loads(stdout)
    unknown = {int(item["sender_id"].split(":")[1]) for item in report["unknowns"]}
    duplicates = sorted(chat for chat, count in sends.items() if count > 1)
    missed = sorted(chat for chat in chats if sends[chat] == 0 and chat not in unknown)
    unknown_but_delivered = sorted(chat for chat in unknown if sends[chat] == 1)
    print(
        f"\nbroadcast killed 3 times ({', '.join(name for name, _ in killed_runs)}), rerun: "
        f"{len(chats)} subscribers, {sum(sends.values())} messages, duplicates "
        f"{len(duplicates)}, misses {len(missed)}, unknown reported {len(unknown)} "
        f"(of which the stand-in had shown {len(unknown_but_delivered)})"
    )
    assert duplicates == []
    assert missed == []
    assert report["unknown"] == len(unknown) and 1 <= len(unknown) <= 3
    assert report["matched"] == SUBSCRIBERS
    accounted = report["delivered"] + report["already_sent"] + report["unknown"]
    assert accounted == SUBSCRIBERS, report
    assert final.returncode == 1, "unknown outcomes are not 'everything done'"


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_killed_at_random_three_times_send_each_citizen_once(
    tmp_path: Path, database_url: str, redis_prefix: str
) -> None:
    require_learncity_command()
    upgrade_database(database_url)
    chats = list(range(5001, 5301))
    subscribe_telegram_chats(database_url, chats)
    seed = int(os.environ.get("LEARNCITY_KILL_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    with FakeTelegramApi(token="4242:WORKERS-test") as telegram:
        env = worker_environment(
            database_url,
            telegram,
            tmp_path / "data",
            redis_prefix,
            TELEGRAM_BROADCAST_RATE="30",
            BROADCAST_CHUNK_SIZE="20",
        )
        workers = [start_worker(env, tmp_path / f"worker{i}.log") for i in range(3)]
        waiting = start_broadcast(
            env, "--text", "Learning festival", "--event-id", "evt-workers-killed"
        )
        kills = []
        try:
            for kill in range(3):
                # at a random moment once a growing share of the chats has it
                share = (kill + 1) * len(chats) // 5
                wait_until(
                    lambda: sum(sends_per_chat(telegram).values()) >= share,  # noqa: B023
                    120,
                    f"the workers to send {share} messages",
                    details=lambda: sum(sends_per_chat(telegram).values()),
                )
                time.sleep(rng.uniform(0.0, 0.5))  # not a wait: the kill's random moment
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait(timeout=10)
                kills.append((victim, workers[victim].returncode))
                workers[victim] = start_worker(env, tmp_path / f"worker{victim}.log")
            stdout, stderr = waiting.communicate(timeout=300)
        finally:
            stop_workers(workers)
            if waiting.poll() is None:
                waiting.kill()
        sends = sends_per_chat(telegram)

    report = json.loads(stdout)
    unknown = {int(item["sender_id"].split(":")[1]) for item in report["unknowns"]}
    duplicates, missing = duplicates_and_missing(sends, chats)
    print(
        f"\n3 workers, {len(chats)} subscribers at 30/s, kill -9 three times (seed {seed}): "
        f"{sum(sends.values())} messages, duplicates {len(duplicates)}, never sent "
        f"{len(missing)} (all reported unknown: {set(missing) <= unknown}), unknown reported "
        f"{len(unknown)}, {report['seconds']:.1f}s"
    )
    assert [code for _, code in kills] == [-signal.SIGKILL] * 3
    assert duplicates == []
    assert set(missing) <= unknown, "a citizen who got nothing is named in the report"
    assert report["delivered"] + report["unknown"] == len(chats), report
    assert report["status"] == "done" and report["left"] == 0


IN_FLIGHT_CHUNKS = 4  # BROADCAST_WORKER_CONCURRENCY: chunks one worker sends at once


class _FrozenPlatform:
    """Holds the Telegram stand-in still from one send on (the listener runs on its event loop),
    so every request a worker makes after that one stays on the wire, unanswered."""

    def __init__(self, at_send: int) -> None:
        self.at_send, self.sends = at_send, 0
        self.frozen, self.thaw = threading.Event(), threading.Event()

    def __call__(self, call: ApiCall) -> None:
        if call.method != "sendMessage":
            return
        self.sends += 1
        if self.sends == self.at_send:
            self.frozen.set()
            self.thaw.wait(timeout=60)


def _in_flight(url: str, key: str) -> list[str]:
    """Citizens whose delivery is claimed (`sending`) and not yet settled."""
    from sqlalchemy import select

    from bot.models import BroadcastDelivery

    with session_scope(url) as session:
        return list(
            session.scalars(
                select(BroadcastDelivery.sender_id).where(
                    BroadcastDelivery.announcement_key == key,
                    BroadcastDelivery.status == "sending",
                )
            )
        )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_with_sends_in_flight_leaves_at_most_its_in_flight_window_unknown(
    tmp_path: Path, database_url: str, redis_prefix: str
) -> None:
    """Telegram has no idempotency key: a send whose answer never came may have been shown, so
    it is reported unknown and not sent again (at most once). Only the sends on the wire when
    the worker died can be unknown: one per chunk in flight, BROADCAST_WORKER_CONCURRENCY."""
    require_learncity_command()
    upgrade_database(database_url)
    chats = list(range(7001, 7121))
    subscribe_telegram_chats(database_url, chats)
    platform = _FrozenPlatform(at_send=30)
    with FakeTelegramApi(token="4242:WORKERS-test") as telegram:
        telegram.add_listener(platform)
        env = worker_environment(
            database_url,
            telegram,
            tmp_path / "data",
            redis_prefix,
            TELEGRAM_BROADCAST_RATE="50",
            BROADCAST_CHUNK_SIZE="10",
            BROADCAST_WORKER_CONCURRENCY=str(IN_FLIGHT_CHUNKS),
        )
        workers = [start_worker(env, tmp_path / "worker-killed.log")]
        waiting = start_broadcast(env, "--text", "Learning festival", "--event-id", "evt-inflight")
        try:
            wait_until(platform.frozen.is_set, 120, "the 30th send to reach the platform")
            # Every chunk in flight claims its next citizen and sends: all of them on the wire.
            in_flight = wait_until(
                lambda: (
                    (found := _in_flight(database_url, "event:evt-inflight"))
                    and len(found) >= IN_FLIGHT_CHUNKS
                    and found
                ),
                30,
                f"{IN_FLIGHT_CHUNKS} sends in flight",
                details=lambda: _in_flight(database_url, "event:evt-inflight"),
            )
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            at_kill = _in_flight(database_url, "event:evt-inflight")
            platform.thaw.set()
            workers.append(start_worker(env, tmp_path / "worker-after.log"))
            stdout, stderr = waiting.communicate(timeout=300)
        finally:
            platform.thaw.set()
            stop_workers(workers)
            if waiting.poll() is None:
                waiting.kill()
        sends = sends_per_chat(telegram)

    report = json.loads(stdout)
    unknown = sorted(item["sender_id"] for item in report["unknowns"])
    duplicates, missing = duplicates_and_missing(sends, chats)
    print(
        f"\nkilled with {len(at_kill)} sends in flight ({IN_FLIGHT_CHUNKS} chunks at once): "
        f"{len(unknown)} unknown, {len(missing)} got nothing, {len(duplicates)} duplicates"
    )
    assert len(in_flight) >= 1
    assert unknown == sorted(at_kill), "exactly the sends on the wire at the kill are unknown"
    assert 1 <= len(unknown) <= IN_FLIGHT_CHUNKS
    assert duplicates == []
    assert {f"telegram:{chat}" for chat in missing} <= set(unknown)
    assert all("may have arrived" in item["reason"] for item in report["unknowns"])
    assert report["delivered"] + report["unknown"] == len(chats), report
