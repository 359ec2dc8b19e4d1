"""WeChat's 5-second rule under load: slow answers, WeChat's retries, each answered exactly once.

Starts the real assistant (trained model, Rasa server, action server, sample city) on a temp
database, puts a slow network in front of Rasa (tests/fakes/slow_proxy.py, default 6 s: every
answer misses WeChat's 5 seconds), runs the gateway with the WeChat channel in its own uvicorn
process against the fake WeChat API (tests/fakes/wechat_api.py), and plays WeChat: N citizens
send one message each at the same moment (half in safe mode, encrypted), and WeChat delivers
every message again 5, 10 and 15 s later, as it does when it hears nothing back (here: as if
every response were lost, the worst case). Expected: every callback answered "success" within
the reply budget, every citizen gets exactly one customer-service message, and the assistant
is asked once per message. A second, fast phase (no delay) measures passive replies.
Loopback only, bounded (one minute or so).

    .venv/bin/python -m bench.wechat_bench [--citizens 50] [--delay 6] [--rasa-url URL | --fake-rasa]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.gateway_process import gateway_process
from bench.report import percentile, print_table, write_results

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchWeChatToken2026"
QUESTIONS = ["我想学Python", "where can I learn pottery?", "周末有免费的英语课吗", "你好"]
RETRY_INTERVAL_S = 5.0  # WeChat waits 5 s for a response, then delivers the message again
ATTEMPTS = 4  # the first delivery and WeChat's three retries
CALLBACK_TIMEOUT_S = 5.0  # WeChat drops the connection after 5 s


def gateway_from_environment():  # type: ignore[no-untyped-def]
    """uvicorn factory for the gateway process: settings from the environment, as deployed."""
    from bot.conversation import conversation_for
    from bot.stack import gateway_app
    from core.settings import get_settings

    settings = get_settings()
    return gateway_app(settings, conversation_for(settings))


async def _deliver(
    callbacks, client, openid: str, question: str, encrypted: bool, attempts: int
) -> dict:  # type: ignore[no-untyped-def]
    """One citizen's message, delivered `attempts` times 5 s apart; what each delivery got."""
    xml = callbacks.text(openid, question)

    async def attempt(number: int) -> tuple[str, float]:
        await asyncio.sleep(number * RETRY_INTERVAL_S)
        started = time.monotonic()
        try:
            response = await callbacks.post(
                xml, encrypted=encrypted, timeout=CALLBACK_TIMEOUT_S, client=client
            )
        except httpx.TimeoutException:
            return "timeout", CALLBACK_TIMEOUT_S * 1000
        except httpx.HTTPError as error:
            return f"error {type(error).__name__}", (time.monotonic() - started) * 1000
        elapsed = (time.monotonic() - started) * 1000
        if response.status_code != 200:
            return f"http {response.status_code}", elapsed
        if response.text == "success":
            return "success", elapsed
        content = callbacks.reply_fields(response).get("Content", "")
        return ("passive" if content else "empty"), elapsed

    sent_at = time.monotonic()
    outcomes = await asyncio.gather(*(attempt(n) for n in range(attempts)))
    return {"openid": openid, "sent_at": sent_at, "outcomes": outcomes}


async def _phase(
    callbacks, api, proxy, tag: str, citizens: int, attempts: int, delay: float
) -> dict:  # type: ignore[no-untyped-def]
    """N citizens at once; then wait for their customer-service messages (or passive replies)."""
    proxy.delay_seconds = delay
    openids = [f"oBENCH{tag}{number:04d}" for number in range(citizens)]
    limits = httpx.Limits(max_connections=citizens * attempts + 10)
    async with httpx.AsyncClient(limits=limits) as client:  # WeChat keeps connections too
        deliveries = await asyncio.gather(
            *(
                _deliver(
                    callbacks, client, openid, QUESTIONS[n % len(QUESTIONS)], n % 2 == 1, attempts
                )
                for n, openid in enumerate(openids)
            )
        )
    deadline = time.monotonic() + delay + 60
    passive = {d["openid"] for d in deliveries if any(o == "passive" for o, _ in d["outcomes"])}
    while time.monotonic() < deadline:
        if all(api.sent_to(openid) or openid in passive for openid in openids):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.0)  # a duplicate would arrive now
    answers, processed, arrival_ms = [], [], []
    for delivery in deliveries:
        openid = delivery["openid"]
        messages = api.sent_to(openid)
        # One answer = one passive reply, or the customer-service messages of one answer;
        # our questions' answers fit one message, so more than one message is a duplicate.
        answers.append((1 if openid in passive else 0) + len(messages))
        processed.append(len(proxy.bodies_from(f"wechat:{openid}")))
        if messages:
            arrival_ms.append((messages[0].at - delivery["sent_at"]) * 1000)
    outcomes = [outcome for d in deliveries for outcome, _ in d["outcomes"]]
    response_ms = [ms for d in deliveries for _, ms in d["outcomes"]]
    first_ms = [d["outcomes"][0][1] for d in deliveries]
    retry_ms = [ms for d in deliveries for _, ms in d["outcomes"][1:]]
    return {
        "citizens": citizens,
        "deliveries": len(outcomes),
        "responses": {kind: outcomes.count(kind) for kind in sorted(set(outcomes))},
        "response_ms_p50": round(statistics.median(response_ms), 1),
        "response_ms_max": round(max(response_ms), 1),
        "first_delivery_ms_p50": round(statistics.median(first_ms), 1),
        "first_delivery_ms_max": round(max(first_ms), 1),
        "retry_ms_p50": round(statistics.median(retry_ms), 1) if retry_ms else None,
        "retry_ms_max": round(max(retry_ms), 1) if retry_ms else None,
        "answered_once": answers.count(1),
        "unanswered": answers.count(0),
        "answered_twice_or_more": sum(1 for count in answers if count > 1),
        "processed_once": processed.count(1),
        "processed_twice_or_more": sum(1 for count in processed if count > 1),
        "customer_service_messages": sum(len(api.sent_to(openid)) for openid in openids),
        "passive_replies": len(passive),
        "answer_arrival_ms_p50": round(statistics.median(arrival_ms), 1) if arrival_ms else None,
        "answer_arrival_ms_p95": round(percentile(arrival_ms, 95), 1) if arrival_ms else None,
    }


def _measure(rasa_url: str, database_url: str, data_dir: Path, args: argparse.Namespace) -> dict:
    from bot.stack import free_port
    from tests.fakes.slow_proxy import SlowProxy
    from tests.fakes.wechat_api import FakeWeChatApi, WeChatCallbacks, random_aes_key

    aes_key = random_aes_key()
    with FakeWeChatApi() as api, SlowProxy(rasa_url, 0.0) as proxy:  # slowed in each phase
        port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "LEARNCITY_DATA_DIR": str(data_dir),
                "DATABASE_URL": database_url,
                "RASA_URL": proxy.url,
                "RASA_TIMEOUT_SECONDS": str(args.delay + 30),
                "WECHAT_TOKEN": TOKEN,
                "WECHAT_APP_ID": api.app_id,
                "WECHAT_APP_SECRET": api.app_secret,
                "WECHAT_AES_KEY": aes_key,
                "WECHAT_API_BASE_URL": api.base_url,
                "LEARNCITY_LOG_LEVEL": "WARNING",
            }
        )
        with gateway_process(
            "bench.wechat_bench:gateway_from_environment", env, port, data_dir / "gateway.log"
        ) as url:
            callbacks = WeChatCallbacks(
                url, token=TOKEN, app_id=api.app_id, encoding_aes_key=aes_key
            )

            async def scenario() -> tuple[dict, dict]:
                slow = await _phase(callbacks, api, proxy, "S", args.citizens, ATTEMPTS, args.delay)
                fast = await _phase(callbacks, api, proxy, "F", args.citizens, 1, 0.0)
                return slow, fast

            slow, fast = asyncio.run(scenario())
        return {"slow": slow, "fast": fast, "token_fetches": api.token_fetches}


def run(args: argparse.Namespace) -> dict:
    from core.settings import get_settings

    with tempfile.TemporaryDirectory(prefix="learncity-wechat-bench-") as folder:
        data_dir = Path(folder)
        os.environ["LEARNCITY_DATA_DIR"] = str(data_dir)
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'learncity.db'}"
        os.environ.setdefault("LEARNCITY_MODELS_DIR", str(REPOSITORY_ROOT / ".data" / "models"))
        get_settings.cache_clear()
        settings = get_settings()
        if args.rasa_url or args.fake_rasa:
            from core.database import upgrade_database

            upgrade_database(settings.sqlalchemy_url)
            with contextlib.ExitStack() as stack:
                rasa_url = args.rasa_url
                if args.fake_rasa:
                    from tests.fakes.rasa_rest import FakeRasa

                    rasa_url = stack.enter_context(FakeRasa()).url
                measured = _measure(rasa_url, settings.sqlalchemy_url, data_dir, args)
        else:
            from bot.stack import free_port, running_assistant
            from bot.supervisor import StackPorts

            ports = StackPorts(rasa=free_port(), actions=free_port())
            with running_assistant(settings, ports) as supervisor:
                measured = _measure(supervisor.rasa_url, settings.sqlalchemy_url, data_dir, args)
    return _report(measured, args)


def _report(measured: dict[str, Any], args: argparse.Namespace) -> dict:
    slow, fast = measured["slow"], measured["fast"]
    assistant = (
        f"external Rasa at {args.rasa_url}"
        if args.rasa_url
        else "fake Rasa (echo)"
        if args.fake_rasa
        else "real stack started"
    )
    result = {
        "citizens": args.citizens,
        "answer_delay_s": args.delay,
        "deliveries_per_message": ATTEMPTS,
        "retry_interval_s": RETRY_INTERVAL_S,
        "slow_phase": slow,
        "fast_phase": fast,
        "token_fetches": measured["token_fetches"],
        "assistant": assistant,
        "cpus": os.cpu_count(),
    }
    result["targets_met"] = bool(
        slow["answered_once"] == args.citizens
        and slow["processed_once"] == args.citizens
        and slow["responses"].get("success", 0) == slow["deliveries"]
        and slow["response_ms_max"] < 5000
        and fast["answered_once"] == args.citizens
    )
    n = args.citizens
    print_table(
        f"WeChat callbacks: {n} citizens at once, answers {args.delay:g} s away, each message "
        f"delivered {ATTEMPTS}× {RETRY_INTERVAL_S:g} s apart (then {n} more with no delay)",
        ["measure", "slow phase", "fast phase", "target"],
        [
            ["callbacks sent", slow["deliveries"], fast["deliveries"], ""],
            ["responses", _kinds(slow["responses"]), _kinds(fast["responses"]), "slow: all success"],
            ["first delivery: response p50 ms", slow["first_delivery_ms_p50"], fast["first_delivery_ms_p50"], "slow: ≈ budget 4000"],
            ["first delivery: response max ms", slow["first_delivery_ms_max"], fast["first_delivery_ms_max"], "< 5000"],
            ["retries: response p50 ms", slow["retry_ms_p50"], "", ""],
            ["retries: response max ms", slow["retry_ms_max"], "", "< 5000"],
            ["citizens answered exactly once", slow["answered_once"], fast["answered_once"], n],
            ["unanswered", slow["unanswered"], fast["unanswered"], "0"],
            ["answered twice or more", slow["answered_twice_or_more"], fast["answered_twice_or_more"], "0"],
            ["assistant asked once per message", slow["processed_once"], fast["processed_once"], n],
            ["customer-service messages", slow["customer_service_messages"], fast["customer_service_messages"], f"slow: {n}"],
            ["passive replies", slow["passive_replies"], fast["passive_replies"], f"fast: {n}"],
            ["first POST → message p50 ms", slow["answer_arrival_ms_p50"], "", ""],
            ["first POST → message p95 ms", slow["answer_arrival_ms_p95"], "", ""],
            ["access token fetches", measured["token_fetches"], "", "1"],
        ],
    )  # fmt: skip
    write_results("wechat" if assistant == "real stack started" else "wechat-transport", result)
    return result


def _kinds(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=50, help="messages sent at once")
    parser.add_argument(
        "--delay", type=float, default=6.0, help="seconds the slow network adds before Rasa"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--rasa-url", default="", help="an already running Rasa server")
    source.add_argument(
        "--fake-rasa", action="store_true", help="the echoing fake Rasa (transport only)"
    )
    print(json.dumps(run(parser.parse_args()), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
