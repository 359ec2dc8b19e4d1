"""Broadcast workers as real processes (`learncity serve worker`) on real Redis and a database,
sending to the Telegram Bot API stand-in; and the checks every broadcast test makes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import citizens
from core.database import session_scope
from core.settings import REPOSITORY_ROOT
from tests.fakes.telegram_api import FakeTelegramApi
from tests.services import LEARNCITY, REDIS_URL

TOKEN = "4242:WORKERS-test"


def subscribe_telegram_chats(url: str, chats: list[int], topic: str = "festival") -> None:
    with session_scope(url) as session:
        for chat in chats:
            citizens.subscribe_events(session, f"telegram:{chat}", topic=topic, consent=True)


def worker_environment(
    url: str, telegram: FakeTelegramApi, data_dir: Path, prefix: str | None, **extra: str
) -> dict[str, str]:
    """What a worker (or the broadcast command) is started with: this test's database, Redis
    key prefix (None: no Redis) and the Telegram stand-in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHAT_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "LEARNCITY_DATA_DIR": str(data_dir),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "REDIS_URL": REDIS_URL if prefix else "",
            "REDIS_KEY_PREFIX": prefix or "learncity:",
            **extra,
        }
    )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`learncity serve worker` in its own process, its output in `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(LEARNCITY), "serve", "worker"],
            env=env,
            cwd=REPOSITORY_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def broadcast_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LEARNCITY), "broadcast", *args],
        env=env,
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def start_broadcast(env: dict[str, str], *args: str) -> subprocess.Popen:
    """`learncity broadcast ARGS --json` started in the background (it waits for the workers)."""
    return subprocess.Popen(
        [str(LEARNCITY), "broadcast", *args, "--json"],
        env=env,
        cwd=REPOSITORY_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_sends(telegram: FakeTelegramApi, chats: list[int], timeout: float) -> Counter:
    """Wait until every chat got at least one message (or `timeout`); sends per chat."""
    deadline = time.monotonic() + timeout
    while True:
        sends = sends_per_chat(telegram)
        if all(sends[chat] for chat in chats) or time.monotonic() > deadline:
            return sends
        time.sleep(0.2)


def sends_per_chat(telegram: FakeTelegramApi) -> Counter:
    """Messages the stand-in accepted, per chat (429-refused sends are not messages)."""
    refused = {id(call) for call in telegram.refused_sends}
    return Counter(
        call.params.get("chat_id")
        for call in telegram.calls_to("sendMessage")
        if id(call) not in refused
    )


def duplicates_and_missing(sends: Counter, chats: list[int]) -> tuple[list[int], list[int]]:
    duplicates = sorted(chat for chat, count in sends.items() if count > 1)
    missing = sorted(chat for chat in chats if sends[chat] == 0)
    return duplicates, missing
