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


async def time_one_conversation(talk: Any, sender_id: str, turns: int = TURNS) -> list[float]:
    """Milliseconds per turn of one conversation; `talk(sender_id, text)` returns the replies."""
    timings: list[float] = []
    for turn in range(turns):
        text = MESSAGES[turn % len(MESSAGES)]
        started = time.perf_counter()
        replies = await talk(sender_id, text)
        timings.append((time.perf_counter() - started) * 1000)
        if not replies or {reply.text for reply in replies} & _KIND_FALLBACKS:
            # A "try again" comes back fast and would hide what a real turn costs.
            raise RuntimeError(f"no real answer to {text!r} at turn {turn + 1}: {replies}")
    return timings


def summarise(timings: list[float], window: int = WINDOW) -> dict[str, float]:
    """Median (and p95) of the first and the last `window` turns, and the growth ratio."""
    first, last = timings[:window], timings[-window:]
    return {
        "first_median_ms": statistics.median(first),
        "first_p95_ms": percentile(first, 95),
        "last_median_ms": statistics.median(last),
        "last_p95_ms": percentile(last, 95),
        "growth": statistics.median(last) / statistics.median(first),
    }


async def _measure(rasa_url: str, database_url: str, turns: int) -> list[float]:
    from bot.conversation import Conversation
    from bot.messages import IncomingMessage

    conversation = Conversation(rasa_url, timeout=60, database_url=database_url)

    async def talk(sender_id: str, text: str) -> list:
        message = IncomingMessage(sender_id=sender_id, channel="web", text=text)
        return await conversation.handle(message)

    await time_one_conversation(talk, "web:warm-up", len(MESSAGES))
    try:
        return await time_one_conversation(talk, "web:long-conversation", turns)
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
            timings = asyncio.run(
                _measure(supervisor.rasa_url, settings.sqlalchemy_url, args.turns)
            )
    result: dict[str, Any] = {"turns": len(timings), **summarise(timings)}
    result["median_ms_per_window"] = [
        round(statistics.median(timings[start : start + WINDOW]), 1)
        for start in range(0, len(timings), WINDOW)
    ]
    print_table(
        f"Turn cost over one {len(timings)}-turn conversation (real stack)",
        ["turns", "median ms", "p95 ms"],
        [
            [f"1-{WINDOW}", result["first_median_ms"], result["first_p95_ms"]],
            [
                f"{len(timings) - WINDOW + 1}-{len(timings)}",
                result["last_median_ms"],
                result["last_p95_ms"],
            ],
        ],
    )
    print(f"median per {WINDOW} turns: {result['median_ms_per_window']}")
    print(f"growth (last / first median): {result['growth']:.2f}")
    write_results("turn-cost", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=TURNS, help="length of the conversation")
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
