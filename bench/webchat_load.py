"""Web chat under load: 200 citizens with no think time for 60 s, against the real stack.

The load target of issue 9: "200 web-chat citizens with no think time for 60 s — no false
'down' from /health, every citizen answered or told to try again, gateway and Rasa memory
flat". Starts the real assistant (trained model, Rasa server(s), action server, the sample
city in a temp database; see bench/assistant.py) and the gateway in its own uvicorn process.
Each simulated citizen POSTs `/api/chat` and sends its next question as soon as the answer
comes (no reading pause), until the time is up. Meanwhile, once a second:
- a prober asks the gateway's readiness (`/health/ready` where it exists, else `/health`)
  with a 5 s timeout, as a load balancer would; an answer other than 200 with nothing
  "down", or no answer, is a "down"; it is a *false* down while every process of the stack
  is still the one started (none exited or was restarted);
- a sampler reads the resident memory (RSS, with children) of the gateway, each Rasa server
  and the action server.

Every turn is classified: answered; told to try again (the gateway's kind reply); told to
slow down (flood control); silent (200 with no reply); refused (an HTTP error status);
unanswered (no response within `--turn-timeout`, or the connection failed). The target
holds when no turn is silent, refused or unanswered, no probe is a false down, and memory is
flat: RSS at the end of the run at most max(20 MB, 10 %) above RSS half-way through, per
process (the first half holds the warm-up: the action server loads the embedding model and
the index at its first search, ~230 MB). RSS is sampled again after `--idle-seconds` of quiet.

    .venv/bin/python -m bench.webchat_load [--citizens 200] [--seconds 60]
        [--model PATH | --rasa-url URL | --fake-rasa] [--json] [--no-results]

Runs against anything but the real stack check the harness and are filed as
`webchat-load-harness-check`, not as the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.assistant import BenchAssistant, CpuMeter, add_source_arguments, bench_assistant
from bench.gateway_process import gateway_process
from bench.report import percentile, print_table, write_results

QUESTIONS = [
    ("我想学Python", "zh"),
    ("where can I learn pottery?", "en"),
    ("周末有免费的英语课吗", "zh"),
    ("any evening cooking classes?", "en"),
    ("hola, busco clases de español", "es"),
    ("je cherche un cours de français", "fr"),
    ("أريد تعلم اللغة الإنجليزية", "ar"),
    ("где можно научиться рисовать?", "ru"),
    ("де можна вивчати англійську?", "uk"),
    ("附近有图书馆吗", "zh"),
]
OUTCOMES = ("answered", "try_again", "slow_down", "silent", "refused", "unanswered")
FAILURES = ("silent", "refused", "unanswered")  # never acceptable: the target is none
FLAT_MB = 20.0  # memory growth under this is noise (allocator arenas, caches filling)
FLAT_FRACTION = 0.10
ERROR_PAUSE_SECONDS = 0.5


def gateway_from_environment():  # type: ignore[no-untyped-def]
    """uvicorn factory for the gateway process: settings from the environment, as deployed."""
    from bot.conversation import conversation_for
    from bot.stack import gateway_app
    from core.settings import get_settings

    settings = get_settings()
    return gateway_app(settings, conversation_for(settings))


@dataclass
class Turns:
    """What came back for every turn, and how long the answered ones took."""

    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    by_citizen: dict[int, dict[str, int]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)  # refused/unanswered: what exactly

    def record(self, citizen: int, outcome: str, latency_ms: float, detail: str = "") -> None:
        self.outcomes[outcome] += 1
        mine = self.by_citizen.setdefault(citizen, dict.fromkeys(OUTCOMES, 0))
        mine[outcome] += 1
        if outcome == "answered":
            self.latencies_ms.append(latency_ms)
        if detail:
            self.statuses[detail] = self.statuses.get(detail, 0) + 1


def _kind_texts() -> tuple[set[str], set[str]]:
    from bot.kind_replies import SLOW_DOWN, TRY_AGAIN

    return set(TRY_AGAIN.values()), set(SLOW_DOWN.values())


def classify(status: int, body: object, try_again: set[str], slow_down: set[str]) -> str:
    """One turn's outcome from the gateway's HTTP status and JSON body."""
    if status != 200:
        return "refused"
    replies = body.get("replies") if isinstance(body, dict) else None
    if not replies:
        return "silent"
    texts = {reply.get("text") for reply in replies if isinstance(reply, dict)}
    if texts & try_again:
        return "try_again"
    if texts & slow_down:
        return "slow_down"
    return "answered"


async def _citizen(
    client: httpx.AsyncClient,
    url: str,
    number: int,
    deadline: float,
    think_seconds: float,
    turns: Turns,
    kind: tuple[set[str], set[str]],
) -> None:
    session_id = f"load-{number}"
    turn = 0
    while time.monotonic() < deadline:
        text, language = QUESTIONS[(number * 3 + turn) % len(QUESTIONS)]
        turn += 1
        started = time.monotonic()
        try:
            response = await client.post(
                url, json={"session_id": session_id, "text": text, "language": language}
            )
        except httpx.HTTPError as error:
            turns.record(number, "unanswered", 0.0, type(error).__name__)
            await asyncio.sleep(ERROR_PAUSE_SECONDS)  # a refused connection must not spin
            continue
        latency_ms = (time.monotonic() - started) * 1000
        try:
            body = response.json()
        except ValueError:
            body = None
        outcome = classify(response.status_code, body, *kind)
        detail = f"HTTP {response.status_code}" if outcome == "refused" else ""
        turns.record(number, outcome, latency_ms, detail)
        if think_seconds:
            await asyncio.sleep(think_seconds)


def _alive(processes: dict[str, int]) -> bool:
    """Every process of the stack is still the one started (none exited or was replaced)."""
    for pid in processes.values():
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            return False
    return True


async def _health_path(client: httpx.AsyncClient, gateway_url: str) -> str:
    """`/health/ready` (readiness, issue 9 item 13) where the gateway has it, else `/health`."""
    with contextlib.suppress(httpx.HTTPError):
        if (await client.get(f"{gateway_url}/health/ready")).status_code != 404:
            return "/health/ready"
    return "/health"


def judge_health(status: int, body: object) -> str:
    """'up' for a 200 whose JSON names nothing "down", else 'down'."""
    if status != 200 or not isinstance(body, dict):
        return "down"
    return "down" if "down" in body.values() else "up"


async def _probe_health(
    url: str, stack: dict[str, int], stop: asyncio.Event, interval: float, probes: list[dict]
) -> None:
    """A load balancer's view: GET the readiness URL every `interval` s, 5 s timeout."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = await client.get(url)
                body = response.json() if response.status_code in (200, 503) else None
                verdict = judge_health(response.status_code, body)
                detail = "" if verdict == "up" else f"HTTP {response.status_code} {body}"
            except (httpx.HTTPError, ValueError) as error:
                verdict, detail = "down", type(error).__name__
            probes.append(
                {
                    "verdict": verdict,
                    "stack_alive": _alive(stack) if stack else None,
                    "ms": round((time.monotonic() - started) * 1000, 1),
                    "detail": detail,
                }
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), max(0.0, interval - (time.monotonic() - started))
                )


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its children, in MB (None once it is gone)."""
    try:
        process = psutil.Process(pid)
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return None
    total = 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return round(total / 2**20, 1)


async def _sample_memory(
    processes: dict[str, int], stop: asyncio.Event, interval: float, samples: list[dict]
) -> None:
    started = time.monotonic()
    while not stop.is_set():
        reading = await asyncio.to_thread(lambda: {n: rss_mb(p) for n, p in processes.items()})
        samples.append({"t": time.monotonic() - started, **reading})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def memory_summary(
    name: str, before: float | None, samples: list[dict], after: float | None
) -> dict:
    """Before, half-way, peak, end and after idle; flat when end - half-way is small."""
    readings = [(s["t"], s[name]) for s in samples if s.get(name) is not None]
    if not readings:
        return {"before_mb": before, "flat": None}
    duration = readings[-1][0]
    halfway = next(value for t, value in readings if t >= duration / 2)
    end = readings[-1][1]
    growth = round(end - halfway, 1)
    return {
        "before_mb": before,
        "halfway_mb": halfway,
        "peak_mb": max(value for _, value in readings),
        "end_mb": end,
        "after_idle_mb": after,
        "growth_mb": growth,
        "flat": growth <= max(FLAT_MB, FLAT_FRACTION * halfway),
    }


async def _load(gateway_url: str, stack: dict[str, int], memory: dict[str, int], args) -> dict:  # type: ignore[no-untyped-def]
    kind = _kind_texts()
    turns = Turns()
    probes: list[dict] = []
    samples: list[dict] = []
    stop = asyncio.Event()
    limits = httpx.Limits(
        max_connections=args.citizens + 10, max_keepalive_connections=args.citizens + 10
    )
    async with httpx.AsyncClient(timeout=args.turn_timeout, limits=limits) as client:
        health_url = gateway_url + await _health_path(client, gateway_url)
        before = {name: rss_mb(pid) for name, pid in memory.items()}
        meter = CpuMeter(memory)
        meter.start()
        background = [
            asyncio.create_task(
                _probe_health(health_url, stack, stop, args.probe_interval, probes)
            ),
            asyncio.create_task(_sample_memory(memory, stop, 1.0, samples)),
        ]
        started = time.monotonic()
        deadline = started + args.seconds
        await asyncio.gather(
            *(
                _citizen(
                    client, f"{gateway_url}/api/chat", n, deadline, args.think_seconds, turns, kind
                )
                for n in range(args.citizens)
            )
        )
        elapsed = time.monotonic() - started
        stop.set()
        await asyncio.gather(*background)
        cpu = meter.stop(sum(turns.outcomes.values()))
    await asyncio.sleep(args.idle_seconds)  # quiet: does memory come back down?
    after = {name: rss_mb(pid) for name, pid in memory.items()}
    return {
        "turns": turns,
        "probes": probes,
        "memory": {n: memory_summary(n, before[n], samples, after[n]) for n in memory},
        "elapsed_s": elapsed,
        "health_path": health_url.removeprefix(gateway_url),
        "stack_survived": _alive(stack) if stack else None,
        "cpu": cpu,
    }


def _measure(assistant: BenchAssistant, data_dir: Path, args: argparse.Namespace) -> dict:
    from bot.stack import free_port

    port = free_port()
    env = assistant.gateway_environment(data_dir)
    if not assistant.is_real:
        env["RASA_SERVERS"] = "1"  # an external or fake Rasa is one server at RASA_URL
    with gateway_process(
        "bench.webchat_load:gateway_from_environment", env, port, data_dir / "gateway.log"
    ) as gateway:
        memory = {"gateway": gateway.pid, **assistant.processes}
        return asyncio.run(_load(gateway.url, dict(assistant.processes), memory, args))


def summarise(measured: dict, assistant: BenchAssistant, args: argparse.Namespace) -> dict:
    """The JSON result: counts, latency, health probes and memory, and whether targets hold."""
    turns: Turns = measured["turns"]
    probes = measured["probes"]
    latencies = turns.latencies_ms
    failed_citizens = sorted(
        n for n, counts in turns.by_citizen.items() if any(counts[k] for k in FAILURES)
    )
    never_answered = sorted(n for n, counts in turns.by_citizen.items() if not counts["answered"])
    silent_citizens = args.citizens - len(turns.by_citizen)  # never got to finish one turn
    downs = [probe for probe in probes if probe["verdict"] == "down"]
    false_downs = [probe for probe in downs if probe["stack_alive"]]
    total = sum(turns.outcomes.values())
    result = {
        "assistant": assistant.source,
        "rasa_servers": args.rasa_servers if assistant.is_real else None,
        "citizens": args.citizens,
        "seconds": args.seconds,
        "think_seconds": args.think_seconds,
        "elapsed_s": round(measured["elapsed_s"], 2),
        "turns": total,
        "turns_per_s": round(total / max(0.001, measured["elapsed_s"]), 1),
        "outcomes": turns.outcomes,
        "failure_details": turns.statuses,
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(percentile(latencies, 95), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
        "citizens_with_a_failed_turn": len(failed_citizens) + silent_citizens,
        "citizens_never_answered": len(never_answered) + silent_citizens,
        "answered_turns_per_citizen_min": min(
            (counts["answered"] for counts in turns.by_citizen.values()), default=0
        ),
        "health": {
            "path": measured["health_path"],
            "probes": len(probes),
            "down": len(downs),
            "false_down": len(false_downs) if assistant.processes else None,
            "slowest_ms": max((probe["ms"] for probe in probes), default=None),
            "down_details": sorted({probe["detail"] for probe in downs})[:5],
        },
        "stack_survived": measured["stack_survived"],
        "memory": measured["memory"],
        "cpu": measured["cpu"],
    }
    result["targets_met"] = bool(
        total
        and not any(turns.outcomes[k] for k in FAILURES)
        and not result["citizens_with_a_failed_turn"]
        and probes
        and not downs
        and all(summary["flat"] for summary in measured["memory"].values())
    )
    return result


def _print(result: dict, args: argparse.Namespace) -> None:
    outcomes, health, latency = result["outcomes"], result["health"], result["latency_ms"]
    rows: list[list[object]] = [
        ["assistant", result["assistant"], "real stack"],
        ["turns (all citizens) / per second", f"{result['turns']} / {result['turns_per_s']}", ""],
        ["answered", outcomes["answered"], ""],
        ["told to try again / to slow down", f"{outcomes['try_again']} / {outcomes['slow_down']}", ""],
        ["silent / refused / unanswered", f"{outcomes['silent']} / {outcomes['refused']} / {outcomes['unanswered']}", "0 / 0 / 0"],
        ["citizens with a failed turn", result["citizens_with_a_failed_turn"], "0"],
        ["citizens never answered (only 'try again')", result["citizens_never_answered"], ""],
        ["answered turn p50 / p95 / max ms", f"{latency['p50']} / {latency['p95']} / {latency['max']}", ""],
        [f"{health['path']} probes: down / false down", f"{health['probes']}: {health['down']} / {health['false_down']}", "0 / 0"],
        [f"{health['path']} slowest probe ms", health["slowest_ms"], "< 5000"],
        ["stack processes all survived", result["stack_survived"], "True"],
    ]  # fmt: skip
    for name, memory in result["memory"].items():
        rows.append(
            [
                f"RSS MB {name}: before, half-way, peak, end, after idle",
                " / ".join(
                    str(memory.get(key))
                    for key in ("before_mb", "halfway_mb", "peak_mb", "end_mb", "after_idle_mb")
                ),
                f"flat: {memory['flat']}",
            ]
        )
    load = result["cpu"]["load_average_before"][0], result["cpu"]["load_average_after"][0]
    rows.append(["load average (1 min) before → after", f"{load[0]:.2f} → {load[1]:.2f}", ""])
    print_table(
        f"Web chat, {args.citizens} citizens with {args.think_seconds:g} s think time "
        f"for {args.seconds:g} s",
        ["measure", "value", "target"],
        rows,
    )
    print(f"targets met: {result['targets_met']}")


def run(args: argparse.Namespace) -> dict:
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="learncity-web-")))
        assistant = stack.enter_context(bench_assistant(data_dir, args))
        measured = _measure(assistant, data_dir, args)
    return summarise(measured, assistant, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=200, help="citizens talking at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they talk")
    parser.add_argument(
        "--think-seconds", type=float, default=0.0, help="pause after each answer (0: none)"
    )
    parser.add_argument(
        "--turn-timeout",
        type=float,
        default=60.0,
        help="a turn without a response by then is unanswered",
    )
    parser.add_argument(
        "--probe-interval", type=float, default=1.0, help="seconds between health probes"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=10.0, help="quiet before the last RSS reading"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--no-results", action="store_true", help="do not write bench/results/")
    # Two Rasa servers on two cores, as the Telegram benchmark runs (RASA_SERVERS).
    add_source_arguments(parser, rasa_servers=2)
    args = parser.parse_args()
    result = run(args)
    if not args.json:
        _print(result, args)
    if not args.no_results:
        # Only runs against the real stack are the benchmark; the others check the harness.
        write_results(
            "webchat-load" if result["assistant"] == "real stack" else "webchat-load-harness-check",
            result,
        )
    print(
        json.dumps(result, ensure_ascii=False)
        if args.json
        else json.dumps(result, indent=2, ensure_ascii=False)
    )


if __name__ == "__main__":
    main()
