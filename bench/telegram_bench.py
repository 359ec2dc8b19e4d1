"""Telegram under load: 200 citizens talking at once through the webhook, against the real stack.

Starts the real assistant (trained model, Rasa server, action server, sample city) on a temp
database, the fake Bot API (tests/fakes/telegram_api.py) in this process, and the gateway in
its own uvicorn process in webhook mode. Each simulated citizen POSTs an update to
/telegram/webhook with the secret, waits for its answer to arrive at the fake Bot API, and asks
its next question. Reported: messages answered per second, latency from the update POST to the
first matching sendMessage (p50/p95), and whether any message was lost or answered twice
(each turn's message count is calibrated beforehand, one citizen at a time). For comparison the
same load is sent straight to Rasa's REST webhook, to show how much of the time is Rasa's.

    .venv/bin/python -m bench.telegram_bench [--citizens 200] [--turns 5] [--rasa-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from bench.gateway_process import gateway_process
from bench.report import percentile, print_table, write_results

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "9876543:bench-token-not-secret"
SECRET = "bench-webhook-secret"
QUESTIONS = [
    "我想学Python",
    "where can I learn pottery?",
    "周末有免费的英语课吗",
    "any evening cooking classes?",
    "书法课在哪里",
    "I want to learn sign language",
    "coding for kids on weekends",
    "je cherche un cours de français",
]
SCRIPTS = 4  # distinct question sequences; citizen i follows script i % SCRIPTS


def gateway_from_environment():  # type: ignore[no-untyped-def]
    """uvicorn factory for the gateway process: settings from the environment, as deployed."""
    from bot.conversation import conversation_for
    from bot.stack import gateway_app
    from core.settings import get_settings

    settings = get_settings()
    return gateway_app(settings, conversation_for(settings))


def _script(number: int, turns: int) -> list[str]:
    return [QUESTIONS[(number * 2 + turn) % len(QUESTIONS)] for turn in range(turns)]


class _Arrivals:
    """sendMessage arrivals per chat, fed from the fake server's thread into this loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.times: dict[int, list[float]] = defaultdict(list)
        self.events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    def listener(self, call) -> None:  # type: ignore[no-untyped-def]
        if call.method == "sendMessage":
            self.loop.call_soon_threadsafe(self._arrived, call.params.get("chat_id"), call.at)

    def _arrived(self, chat_id: int, at: float) -> None:
        self.times[chat_id].append(at)
        self.events[chat_id].set()

    async def wait_count(self, chat_id: int, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.times[chat_id]) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event = self.events[chat_id]
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True


async def _post(client: httpx.AsyncClient, url: str, update: dict) -> None:
    response = await client.post(
        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    response.raise_for_status()


async def _calibrate(telegram, arrivals: _Arrivals, url: str, turns: int) -> dict[int, list[int]]:  # type: ignore[no-untyped-def]
    """How many messages each turn of each script yields, asked by one citizen at a time."""
    counts: dict[int, list[int]] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        for script in range(SCRIPTS):
            chat_id = 10_000 + script
            counts[script] = []
            for question in _script(script, turns):
                before = len(arrivals.times[chat_id])
                await _post(client, url, telegram.text_update(chat_id, question))
                await arrivals.wait_count(chat_id, before + 1, timeout=60)
                while True:  # quiet for 0.5 s: the turn is complete
                    seen = len(arrivals.times[chat_id])
                    await asyncio.sleep(0.5)
                    if len(arrivals.times[chat_id]) == seen:
                        break
                counts[script].append(len(arrivals.times[chat_id]) - before)
    return counts


async def _load(  # type: ignore[no-untyped-def]
    telegram,
    arrivals: _Arrivals,
    url: str,
    citizens: int,
    turns: int,
    counts: dict[int, list[int]],
    think: float,
) -> dict:
    latencies: list[float] = []
    lost: list[tuple[int, int]] = []
    limits = httpx.Limits(max_connections=citizens + 10, max_keepalive_connections=citizens + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def citizen(number: int) -> None:
            chat_id = 20_000 + number
            expected = 0
            pause = random.Random(number)
            for turn, question in enumerate(_script(number % SCRIPTS, turns)):
                await asyncio.sleep(think * pause.uniform(0.5, 1.5))  # reading, typing
                update = telegram.text_update(chat_id, question)
                first_index = len(arrivals.times[chat_id])
                posted = time.monotonic()
                await _post(client, url, update)
                expected += counts[number % SCRIPTS][turn]
                if not await arrivals.wait_count(chat_id, expected, timeout=30):
                    lost.append((chat_id, turn))
                    expected = len(arrivals.times[chat_id])
                if len(arrivals.times[chat_id]) > first_index:
                    latencies.append((arrivals.times[chat_id][first_index] - posted) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(citizen(number) for number in range(citizens)))
        elapsed = time.monotonic() - started
    await asyncio.sleep(2.0)  # late duplicates would arrive now
    expected_total = sum(sum(counts[n % SCRIPTS]) for n in range(citizens))
    received_total = sum(len(arrivals.times[20_000 + n]) for n in range(citizens))
    return {
        "messages": citizens * turns,
        "elapsed_s": elapsed,
        "messages_per_s": citizens * turns / elapsed,
        "latencies": latencies,
        "lost_turns": len(lost),
        "extra_messages": max(0, received_total - expected_total),
        "missing_messages": max(0, expected_total - received_total),
    }


async def _rasa_only(rasa_url: str, citizens: int, turns: int, think: float) -> dict:
    """The same load straight at Rasa's REST webhook: the floor the gateway sits on."""
    from nlu.serving import WEBHOOK_PATH

    latencies: list[float] = []
    limits = httpx.Limits(max_connections=citizens + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def citizen(number: int) -> None:
            pause = random.Random(number)
            for question in _script(number % SCRIPTS, turns):
                await asyncio.sleep(think * pause.uniform(0.5, 1.5))
                started = time.monotonic()
                response = await client.post(
                    f"{rasa_url}{WEBHOOK_PATH}",
                    json={"sender": f"bench:rasa-{number}", "message": question, "metadata": {}},
                )
                response.raise_for_status()
                latencies.append((time.monotonic() - started) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(citizen(number) for number in range(citizens)))
        elapsed = time.monotonic() - started
    return {"messages_per_s": citizens * turns / elapsed, "latencies": latencies}


def _measure(rasa_url: str, database_url: str, data_dir: Path, args: argparse.Namespace) -> dict:
    from bot.stack import free_port
    from tests.fakes.telegram_api import FakeTelegramApi

    with FakeTelegramApi(token=TOKEN) as telegram:
        port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "LEARNCITY_DATA_DIR": str(data_dir),
                "DATABASE_URL": database_url,
                "RASA_URL": rasa_url,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": telegram.base_url,
                "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "LEARNCITY_LOG_LEVEL": "WARNING",
            }
        )
        with gateway_process(
            "bench.telegram_bench:gateway_from_environment", env, port, data_dir / "gateway.log"
        ) as base_url:
            url = base_url + "/telegram/webhook"

            async def scenario() -> tuple[dict, dict, dict]:
                arrivals = _Arrivals(asyncio.get_running_loop())
                telegram.add_listener(arrivals.listener)
                counts = await _calibrate(telegram, arrivals, url, args.turns)
                load = await _load(
                    telegram, arrivals, url, args.citizens, args.turns, counts, args.think_seconds
                )
                rasa = await _rasa_only(rasa_url, args.citizens, args.turns, args.think_seconds)
                return counts, load, rasa

            counts, load, rasa = asyncio.run(scenario())
    return {"counts": counts, "load": load, "rasa": rasa}


def run(args: argparse.Namespace) -> dict:
    from core.settings import get_settings

    with tempfile.TemporaryDirectory(prefix="learncity-telegram-bench-") as folder:
        data_dir = Path(folder)
        os.environ["LEARNCITY_DATA_DIR"] = str(data_dir)
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'learncity.db'}"
        os.environ.setdefault("LEARNCITY_MODELS_DIR", str(REPOSITORY_ROOT / ".data" / "models"))
        get_settings.cache_clear()
        settings = get_settings()
        if args.rasa_url:
            from core.database import upgrade_database

            upgrade_database(settings.sqlalchemy_url)
            measured = _measure(args.rasa_url, settings.sqlalchemy_url, data_dir, args)
        else:
            from bot.stack import free_port, running_assistant
            from bot.supervisor import StackPorts

            ports = StackPorts(rasa=free_port(), actions=free_port())
            with running_assistant(settings, ports) as supervisor:
                measured = _measure(supervisor.rasa_url, settings.sqlalchemy_url, data_dir, args)
    return _report(measured, args)


def _report(measured: dict, args: argparse.Namespace) -> dict:
    load, rasa = measured["load"], measured["rasa"]
    latencies = load.pop("latencies")
    rasa_latencies = rasa.pop("latencies")
    result = {
        "citizens": args.citizens,
        "turns_per_citizen": args.turns,
        "think_seconds_mean": args.think_seconds,
        "offered_messages_per_s": round(args.citizens / args.think_seconds, 1)
        if args.think_seconds
        else None,
        "messages": load["messages"],
        "elapsed_s": round(load["elapsed_s"], 2),
        "messages_per_s": round(load["messages_per_s"], 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(percentile(latencies, 95), 1) if latencies else None,
        },
        "lost_turns": load["lost_turns"],
        "missing_messages": load["missing_messages"],
        "extra_messages": load["extra_messages"],
        "messages_per_turn": measured["counts"],
        "rasa_only": {
            "messages_per_s": round(rasa["messages_per_s"], 1),
            "p50_ms": round(statistics.median(rasa_latencies), 1),
            "p95_ms": round(percentile(rasa_latencies, 95), 1),
        },
        "cpus": os.cpu_count(),
        "assistant": f"external Rasa at {args.rasa_url}" if args.rasa_url else "real stack started",
    }
    result["targets_met"] = bool(
        result["messages_per_s"] >= 50
        and (result["latency_ms"]["p95"] or 1e9) <= 500
        and not (load["lost_turns"] or load["extra_messages"] or load["missing_messages"])
    )
    print_table(
        f"Telegram webhook, {args.citizens} citizens at once × {args.turns} turns, "
        f"~{args.think_seconds:g} s between a citizen's messages",
        ["measure", "value", "target"],
        [
            ["messages answered per second", result["messages_per_s"], "≥ 50 (2 cores)"],
            ["update POST → sendMessage p50 ms", result["latency_ms"]["p50"], ""],
            ["update POST → sendMessage p95 ms", result["latency_ms"]["p95"], "≤ 500"],
            ["turns lost (no answer in 30 s)", load["lost_turns"], "0"],
            [
                "messages missing / extra",
                f"{load['missing_messages']} / {load['extra_messages']}",
                "0 / 0",
            ],
            ["same load straight to Rasa: msg/s", result["rasa_only"]["messages_per_s"], ""],
            ["same load straight to Rasa: p95 ms", result["rasa_only"]["p95_ms"], ""],
        ],
    )
    # Only runs against the real stack are the benchmark; an external Rasa is a harness check.
    write_results("telegram" if not args.rasa_url else "telegram-external-rasa", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=200, help="citizens talking at once")
    parser.add_argument("--turns", type=int, default=5, help="messages each citizen sends")
    parser.add_argument(
        "--think-seconds",
        type=float,
        default=2.5,
        help="mean pause before each message (uniform 0.5-1.5x); 0 = saturate",
    )
    parser.add_argument(
        "--rasa-url", default="", help="use an already running Rasa server instead of starting one"
    )
    print(json.dumps(run(parser.parse_args()), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
