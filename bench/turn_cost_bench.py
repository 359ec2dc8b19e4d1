"""Turn cost against conversation length: one citizen, 300 messages in one session.

Starts the real stack (trained model, Rasa server, action server) on a temp database and
times every turn of one long conversation (the same ten messages over and over), then reports
the median turn time of the first and the last 20 turns and their ratio. A turn whose cost
grew with the conversation (the policies read the whole history) shows here as a ratio
well above 1 (issue 9, item 14: 29 -> 77 ms over 300 turns).
Usage: .venv/bin/python -m bench.turn_cost_bench [--turns 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.report import percentile, print_table, write_results
from bot.kind_replies import SLOW_DOWN, TRY_AGAIN

# Searches, follow-ups, small talk: what a citizen's long conversation is made of.
MESSAGES = [
    "hello",
    "我想学Python",
    "more",
    "where can I learn pottery?",
    "help",
    "周末有免费的英语课吗",
    "any events coming up?",
    "busco clases de español",
    "书法课在哪里",
    "thanks, bye",
]
TURNS = 300
WINDOW = 20
_KIND_FALLBACKS = set(TRY_AGAIN.values()) | set(SLOW_DOWN.values())


def stack_processes(supervisor: Any) -> list[psutil.Process]:
    """The Rasa and action servers of a running stack, with their children, and this process."""
    found = [psutil.Process()]
    for managed in supervisor.processes:
        if managed.process is not None:
            parent = psutil.Process(managed.process.pid)
            found += [parent, *parent.children(recursive=True)]
    return found


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


async def time_one_conversation(
    talk: Any, sender_id: str, turns: int = TURNS, processes: list[psutil.Process] | None = None
) -> dict[str, list[float]]:
    """Per turn of one conversation: wall-clock ms and CPU ms of `processes` (the stack's).

    `talk(sender_id, text)` returns the replies. CPU time is what the turn itself cost: unlike
    wall-clock time, it does not grow when other work on the machine delays the turn."""
    wall: list[float] = []
    cpu: list[float] = []
    for turn in range(turns):
        text = MESSAGES[turn % len(MESSAGES)]
        cpu_before = _cpu_seconds(processes or [])
        started = time.perf_counter()
        replies = await talk(sender_id, text)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((_cpu_seconds(processes or []) - cpu_before) * 1000)
        if not replies or {reply.text for reply in replies} & _KIND_FALLBACKS:
            # A "try again" comes back fast and would hide what a real turn costs.
            raise RuntimeError(f"no real answer to {text!r} at turn {turn + 1}: {replies}")
    return {"wall_ms": wall, "cpu_ms": cpu}


def summarise(timings: list[float], window: int = WINDOW) -> dict[str, Any]:
    """The first and the last `window` turns: median, mean, p95, and the growth of each.

    CPU time is counted in clock ticks (10 ms), so for CPU the mean is the figure to read."""
    first, last = timings[:window], timings[-window:]
    return {
        "first_mean_ms": statistics.fmean(first),
        "last_mean_ms": statistics.fmean(last),
        "growth_of_mean": statistics.fmean(last) / statistics.fmean(first),
        "first_median_ms": statistics.median(first),
        "first_p95_ms": percentile(first, 95),
        "last_median_ms": statistics.median(last),
        "last_p95_ms": percentile(last, 95),
        "growth": statistics.median(last) / statistics.median(first),
        "median_ms_per_window": [
            round(statistics.median(timings[start : start + window]), 1)
            for start in range(0, len(timings), window)
        ],
    }


async def _measure(supervisor: Any, database_url: str, turns: int) -> dict[str, list[float]]:
    from bot.conversation import Conversation
    from bot.messages import IncomingMessage

    conversation = Conversation(
        supervisor.rasa_url, timeout=60, database_url=database_url, auth_token=supervisor.rasa_token
    )

    async def talk(sender_id: str, text: str) -> list:
        message = IncomingMessage(sender_id=sender_id, channel="web", text=text)
        return await conversation.handle(message)

    await time_one_conversation(talk, "web:warm-up", len(MESSAGES))
    try:
        return await time_one_conversation(
            talk, "web:long-conversation", turns, stack_processes(supervisor)
        )
    finally:
        await conversation.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.stack import free_port, running_assistant
    from bot.supervisor import StackPorts
    from core.settings import get_settings

    with tempfile.TemporaryDirectory(prefix="learncity-bench-") as folder:
        os.environ["LEARNCITY_DATA_DIR"] = folder
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(folder) / 'learncity.db'}"
        os.environ.setdefault(
            "LEARNCITY_MODELS_DIR", str(Path(__file__).resolve().parent.parent / ".data" / "models")
        )
        get_settings.cache_clear()
        settings = get_settings()
        ports = StackPorts(rasa=free_port(), actions=free_port())
        with running_assistant(settings, ports) as supervisor:
            measured = asyncio.run(_measure(supervisor, settings.sqlalchemy_url, args.turns))
    wall, cpu = summarise(measured["wall_ms"]), summarise(measured["cpu_ms"])
    result: dict[str, Any] = {"turns": len(measured["wall_ms"]), "wall": wall, "cpu": cpu}
    last = f"{result['turns'] - WINDOW + 1}-{result['turns']}"
    print_table(
        f"Turn cost over one {result['turns']}-turn conversation (real stack)",
        ["turns", "wall median ms", "wall p95 ms", "stack CPU mean ms"],
        [
            [f"1-{WINDOW}", wall["first_median_ms"], wall["first_p95_ms"], cpu["first_mean_ms"]],
            [last, wall["last_median_ms"], wall["last_p95_ms"], cpu["last_mean_ms"]],
        ],
    )
    print(f"wall-clock median per {WINDOW} turns: {wall['median_ms_per_window']}")
    print(f"growth: wall median {wall['growth']:.2f}, CPU mean {cpu['growth_of_mean']:.2f}")
    write_results("turn-cost", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=TURNS, help="length of the conversation")
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
