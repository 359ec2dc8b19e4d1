"""End-to-end latency: NLU parse through the Rasa server, and a full turn (message → reply).

Starts the real stack (trained model, Rasa server, action server) on a temp database, asks
each question N times and reports median and p95, with a breakdown of where the time goes:
NLU parse (Rasa `/model/parse`), catalog search (in-process `knowledge.search`), and the rest
(dialogue policy, action server round trip, tracker store writes).
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

import httpx

from bench.report import percentile, print_table, write_results

QUESTIONS = [
    "我想学Python",
    "where can I learn pottery?",
    "周末有免费的英语课吗",
    "any evening cooking classes?",
    "附近有图书馆吗",
    "hola, busco clases de español",
    "I want to learn sign language",
    "书法课在哪里",
    "coding for kids on weekends",
    "je cherche un cours de français",
]


def _configure_environment(data_dir: Path) -> None:
    os.environ["LEARNCITY_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'learncity.db'}"
    os.environ.setdefault(
        "LEARNCITY_MODELS_DIR", str(Path(__file__).resolve().parent.parent / ".data" / "models")
    )


async def _measure_turns(
    rasa_url: str, database_url: str, rounds: int, rasa_token: str
) -> list[float]:
    from bot.conversation import Conversation
    from bot.messages import IncomingMessage

    conversation = Conversation(
        rasa_url, timeout=60, database_url=database_url, auth_token=rasa_token
    )
    timings: list[float] = []
    for round_number in range(rounds):
        for position, question in enumerate(QUESTIONS):
            message = IncomingMessage(
                sender_id=f"web:bench-{round_number}-{position}", channel="web", text=question
            )
            started = time.perf_counter()
            replies = await conversation.handle(message)
            timings.append((time.perf_counter() - started) * 1000)
            if not replies:
                raise RuntimeError(f"no reply to {question!r}")
    await conversation.close()
    return timings


def _measure_parse(rasa_url: str, rounds: int, token: str) -> list[float]:
    timings: list[float] = []
    with httpx.Client(timeout=30) as client:
        for _ in range(rounds):
            for question in QUESTIONS:
                started = time.perf_counter()
                client.post(
                    f"{rasa_url}/model/parse", json={"text": question}, params={"token": token}
                ).raise_for_status()
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def _measure_search(rounds: int) -> list[float]:
    import knowledge

    knowledge.search(QUESTIONS[0])  # load model and index outside the measurement
    timings: list[float] = []
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            knowledge.search(question, limit=5)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def run(args: argparse.Namespace) -> dict:
    from bot.stack import free_port, running_assistant
    from bot.supervisor import StackPorts
    from core.settings import get_settings

    with tempfile.TemporaryDirectory(prefix="learncity-bench-") as folder:
        _configure_environment(Path(folder))
        get_settings.cache_clear()
        settings = get_settings()
        started = time.perf_counter()
        ports = StackPorts(rasa=free_port(), actions=free_port())
        with running_assistant(settings, ports) as supervisor:
            startup_s = time.perf_counter() - started
            asyncio.run(
                _measure_turns(
                    supervisor.rasa_url, settings.sqlalchemy_url, 1, supervisor.rasa_token
                )
            )  # warm-up
            rounds = max(1, args.questions // len(QUESTIONS))
            turns = asyncio.run(
                _measure_turns(
                    supervisor.rasa_url, settings.sqlalchemy_url, rounds, supervisor.rasa_token
                )
            )
            parses = _measure_parse(supervisor.rasa_url, rounds, supervisor.rasa_token)
            searches = _measure_search(rounds)
    result = {
        "questions": len(turns),
        "stack_startup_s": round(startup_s, 1),
        "turn_ms": {"p50": statistics.median(turns), "p95": percentile(turns, 95)},
        "parse_ms": {"p50": statistics.median(parses), "p95": percentile(parses, 95)},
        "search_ms": {"p50": statistics.median(searches), "p95": percentile(searches, 95)},
    }
    rest = result["turn_ms"]["p50"] - result["parse_ms"]["p50"] - result["search_ms"]["p50"]
    result["rest_of_turn_ms_p50"] = rest
    print_table(
        "End to end (real Rasa server + action server + search)",
        ["measure", "p50 ms", "p95 ms", "target"],
        [
            [
                "full turn (message → reply)",
                result["turn_ms"]["p50"],
                result["turn_ms"]["p95"],
                "p50 ≤ 150, p95 ≤ 400",
            ],
            [
                "NLU parse (/model/parse)",
                result["parse_ms"]["p50"],
                result["parse_ms"]["p95"],
                "p50 ≤ 25",
            ],
            [
                "catalog search (in-process)",
                result["search_ms"]["p50"],
                result["search_ms"]["p95"],
                "",
            ],
            ["rest: policy, action call, tracker store", rest, "", ""],
        ],
    )
    print(f"{len(turns)} questions; stack start-up (index + servers) {startup_s:.1f} s")
    write_results("e2e", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=50, help="how many turns to time")
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
