"""WeChat's 5-second rule under load: answers slower than 5 s, WeChat's retries, each answered once.

Starts the real assistant (trained model behind the Rasa server, the action server, the sample
city in a temp database; see bench/assistant.py), the gateway with the WeChat channel in its
own uvicorn process, and the fake WeChat API (tests/fakes/wechat_api.py). The answer path is
slowed honestly, outside learncity's code: a slow link between the gateway and the Rasa server
(tests/fakes/slow_proxy.py, default 6 s), so every answer is computed by the real assistant and
arrives after WeChat's 5 seconds. Then the bench plays WeChat: N citizens send one message
each at the same moment (in safe mode, encrypted: with WECHAT_AES_KEY set the gateway refuses
plain bodies), and WeChat delivers every message
again 5, 10 and 15 s later, as it does when it hears nothing back (here: as if every response
were lost, the worst case). Expected: every callback answered "success" within the reply
budget (WECHAT_REPLY_BUDGET_SECONDS), every citizen gets exactly one answer — the
customer-service message — and no passive reply, and the assistant is asked once per message.
A second phase, with the link fast again, measures passive replies.

    .venv/bin/python -m bench.wechat_bench [--citizens 50] [--delay 6] [--reply-budget 4]
        [--model PATH | --rasa-url URL | --fake-rasa]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.assistant import (
    BenchAssistant,
    CpuMeter,
    add_source_arguments,
    bench_assistant,
    cpu_rows,
)
from bench.gateway_process import gateway_process
from bench.report import percentile, print_table, write_results

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

    async def attempt(number: int) -> tuple[str, float, str]:
        await asyncio.sleep(number * RETRY_INTERVAL_S)
        started = time.monotonic()
        try:
            response = await callbacks.post(
                xml, encrypted=encrypted, timeout=CALLBACK_TIMEOUT_S, client=client
            )
        except httpx.TimeoutException:
            return "timeout", CALLBACK_TIMEOUT_S * 1000, ""
        except httpx.HTTPError as error:
            return f"error {type(error).__name__}", (time.monotonic() - started) * 1000, ""
        elapsed = (time.monotonic() - started) * 1000
        if response.status_code != 200:
            return f"http {response.status_code}", elapsed, ""
        if response.text == "success":
            return "success", elapsed, ""
        content = callbacks.reply_fields(response).get("Content", "")
        return ("passive" if content else "empty"), elapsed, content

    sent_at = time.monotonic()
    outcomes = await asyncio.gather(*(attempt(n) for n in range(attempts)))
    return {"openid": openid, "sent_at": sent_at, "outcomes": outcomes}


async def _phase(
    callbacks, api, proxy, tag: str, citizens: int, attempts: int, delay: float
) -> dict:  # type: ignore[no-untyped-def]
    """N citizens at once; then wait for their customer-service messages (or passive replies)."""
    from bot.kind_replies import TRY_AGAIN

    proxy.delay_seconds = delay
    openids = [f"oBENCH{tag}{number:04d}" for number in range(citizens)]
    limits = httpx.Limits(max_connections=citizens * attempts + 10)
    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits) as client:  # WeChat keeps connections too
        deliveries = await asyncio.gather(
            *(
                _deliver(callbacks, client, openid, QUESTIONS[n % len(QUESTIONS)], True, attempts)
                for n, openid in enumerate(openids)
            )
        )
    passive = {
        d["openid"]: next(text for kind, _, text in d["outcomes"] if kind == "passive")
        for d in deliveries
        if any(kind == "passive" for kind, _, _ in d["outcomes"])
    }
    deadline = time.monotonic() + delay + 60
    while time.monotonic() < deadline:
        if all(api.sent_to(openid) or openid in passive for openid in openids):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.0)  # a duplicate would arrive now
    answered_once = unanswered = twice = tried_again = 0
    processed, answer_ms, last_answer = [], [], started
    for delivery in deliveries:
        openid, sent_at = delivery["openid"], delivery["sent_at"]
        messages = api.sent_to(openid)
        # The pieces the citizen saw: the passive reply (WeChat shows the one it received),
        # then customer-service messages. A long answer is several different pieces; the same
        # piece twice, or a passive reply sent again by the API, is a duplicate.
        pieces = ([passive[openid]] if openid in passive else []) + [m.content for m in messages]
        if not pieces:
            unanswered += 1
        elif len(set(pieces)) < len(pieces):
            twice += 1
        else:
            answered_once += 1
        tried_again += any(piece in TRY_AGAIN.values() for piece in pieces)
        processed.append(len(proxy.bodies_from(f"wechat:{openid}")))
        if openid in passive:
            first = next(ms for kind, ms, _ in delivery["outcomes"] if kind == "passive")
            answer_ms.append(first)
            last_answer = max(last_answer, sent_at + first / 1000)
        elif messages:
            answer_ms.append((messages[0].at - sent_at) * 1000)
            last_answer = max(last_answer, messages[-1].at)
    outcomes = [kind for d in deliveries for kind, _, _ in d["outcomes"]]
    first_ms = [d["outcomes"][0][1] for d in deliveries]
    retry_ms = [ms for d in deliveries for _, ms, _ in d["outcomes"][1:]]
    return {
        "citizens": citizens,
        "deliveries": len(outcomes),
        "responses": {kind: outcomes.count(kind) for kind in sorted(set(outcomes))},
        "first_delivery_ms_p50": round(statistics.median(first_ms), 1),
        "first_delivery_ms_max": round(max(first_ms), 1),
        "retry_ms_p50": round(statistics.median(retry_ms), 1) if retry_ms else None,
        "retry_ms_max": round(max(retry_ms), 1) if retry_ms else None,
        "answered_once": answered_once,
        "unanswered": unanswered,
        "answered_twice_or_more": twice,
        "answered_try_again": tried_again,
        "processed_once": processed.count(1),
        "processed_twice_or_more": sum(1 for count in processed if count > 1),
        "customer_service_messages": sum(len(api.sent_to(openid)) for openid in openids),
        "passive_replies": len(passive),
        "answers_per_s": round(len(answer_ms) / max(0.001, last_answer - started), 1),
        "answer_ms": {
            "p50": round(statistics.median(answer_ms), 1) if answer_ms else None,
            "p95": round(percentile(answer_ms, 95), 1) if answer_ms else None,
            "max": round(max(answer_ms), 1) if answer_ms else None,
        },
    }


def _warm_up(rasa_url: str, headers: dict[str, str]) -> None:
    """Ask each question once beforehand: the first search loads the embedding model, which
    is start-up, not answering."""
    from nlu.serving import WEBHOOK_PATH

    with httpx.Client(timeout=120) as client:
        for number, question in enumerate(QUESTIONS):
            body = {"sender": f"bench:warm-up-{number}", "message": question, "metadata": {}}
            client.post(f"{rasa_url}{WEBHOOK_PATH}", json=body, headers=headers).raise_for_status()


def _measure(assistant: BenchAssistant, data_dir: Path, args: argparse.Namespace) -> dict:
    from bot.stack import free_port
    from tests.fakes.slow_proxy import SlowProxy
    from tests.fakes.wechat_api import FakeWeChatApi, WeChatCallbacks, random_aes_key

    _warm_up(assistant.rasa_url, assistant.webhook_headers)
    aes_key = random_aes_key()
    with FakeWeChatApi() as api, SlowProxy(assistant.rasa_url, 0.0) as proxy:  # slowed per phase
        port = free_port()
        env = assistant.gateway_environment(
            data_dir,
            rasa_url=proxy.url,
            RASA_TIMEOUT_SECONDS=str(args.delay + 30),
            WECHAT_TOKEN=TOKEN,
            WECHAT_APP_ID=api.app_id,
            WECHAT_APP_SECRET=api.app_secret,
            WECHAT_AES_KEY=aes_key,
            WECHAT_API_BASE_URL=api.base_url,
            WECHAT_REPLY_BUDGET_SECONDS=str(args.reply_budget),
        )
        with gateway_process(
            "bench.wechat_bench:gateway_from_environment", env, port, data_dir / "gateway.log"
        ) as gateway:
            callbacks = WeChatCallbacks(
                gateway.url, token=TOKEN, app_id=api.app_id, encoding_aes_key=aes_key
            )
            processes = {"gateway": gateway.pid, **assistant.processes}

            async def scenario() -> tuple[dict, dict]:
                slow_meter, fast_meter = CpuMeter(processes), CpuMeter(processes)
                slow_meter.start()
                slow = await _phase(callbacks, api, proxy, "S", args.citizens, ATTEMPTS, args.delay)
                slow["cpu"] = slow_meter.stop(args.citizens)
                fast_meter.start()
                fast = await _phase(callbacks, api, proxy, "F", args.citizens, 1, 0.0)
                fast["cpu"] = fast_meter.stop(args.citizens)
                return slow, fast

            slow, fast = asyncio.run(scenario())
        return {"slow": slow, "fast": fast, "token_fetches": api.token_fetches}


def run(args: argparse.Namespace) -> dict:
    if not 0 < args.reply_budget < 5:
        raise SystemExit("--reply-budget must be more than 0 and less than 5 seconds")
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="learncity-wx-")))
        assistant = stack.enter_context(bench_assistant(data_dir, args))
        measured = _measure(assistant, data_dir, args)
    return _report(measured, assistant, args)


def _report(measured: dict[str, Any], assistant: BenchAssistant, args: argparse.Namespace) -> dict:
    slow, fast = measured["slow"], measured["fast"]
    n, budget_ms = args.citizens, args.reply_budget * 1000
    result = {
        "assistant": assistant.source,
        "citizens": n,
        "answer_delay_s": args.delay,
        "reply_budget_s": args.reply_budget,
        "deliveries_per_message": ATTEMPTS,
        "retry_interval_s": RETRY_INTERVAL_S,
        "slow_phase": slow,
        "fast_phase": fast,
        "token_fetches": measured["token_fetches"],
    }
    result["targets_met"] = bool(
        slow["answered_once"] == n
        and slow["passive_replies"] == 0
        and slow["answered_try_again"] == 0
        and slow["processed_once"] == n
        and slow["responses"].get("success", 0) == slow["deliveries"]
        and slow["first_delivery_ms_max"] < 5000
        and (slow["retry_ms_max"] or 0) < 5000
        and fast["answered_once"] == n
        and fast["answered_try_again"] == 0
    )
    s_ms, f_ms = slow["answer_ms"], fast["answer_ms"]
    print_table(
        f"WeChat callbacks ({assistant.source}): {n} citizens at once, answers {args.delay:g} s "
        f"away, each message delivered {ATTEMPTS}× {RETRY_INTERVAL_S:g} s apart; then {n} more "
        f"with no delay. Reply budget {args.reply_budget:g} s",
        ["measure", "slow phase", "fast phase", "target"],
        [
            ["callbacks sent", slow["deliveries"], fast["deliveries"], ""],
            ["responses", _kinds(slow["responses"]), _kinds(fast["responses"]), "slow: all success"],
            ["first delivery: response p50 ms", slow["first_delivery_ms_p50"], fast["first_delivery_ms_p50"], f"slow: ≈ budget {budget_ms:.0f}"],
            ["first delivery: response max ms", slow["first_delivery_ms_max"], fast["first_delivery_ms_max"], "< 5000"],
            ["retries: response p50 / max ms", f"{slow['retry_ms_p50']} / {slow['retry_ms_max']}", "", "max < 5000"],
            ["answers per second", slow["answers_per_s"], fast["answers_per_s"], ""],
            ["first POST → answer p50 ms", s_ms["p50"], f_ms["p50"], ""],
            ["first POST → answer p95 ms", s_ms["p95"], f_ms["p95"], ""],
            ["first POST → answer max ms", s_ms["max"], f_ms["max"], ""],
            ["citizens answered exactly once", slow["answered_once"], fast["answered_once"], n],
            ["lost (no answer)", slow["unanswered"], fast["unanswered"], "0"],
            ["answered twice or more", slow["answered_twice_or_more"], fast["answered_twice_or_more"], "0"],
            ["answered only 'try again'", slow["answered_try_again"], fast["answered_try_again"], "0"],
            ["assistant asked once per message", slow["processed_once"], fast["processed_once"], n],
            ["customer-service messages", slow["customer_service_messages"], fast["customer_service_messages"], f"slow: {n}"],
            ["passive replies", slow["passive_replies"], fast["passive_replies"], f"slow: 0, fast: {n}"],
            ["access token fetches", measured["token_fetches"], "", "1"],
        ],
    )  # fmt: skip
    print_table(
        "Where the CPU went (per message)",
        ["measure", "slow phase", "fast phase", "note"],
        [
            [slow_row[0], slow_row[1], fast_row[1], slow_row[2]]
            for slow_row, fast_row in zip(cpu_rows(slow["cpu"]), cpu_rows(fast["cpu"]), strict=True)
        ],
    )
    write_results("wechat" if assistant.is_real else "wechat-harness-check", result)
    return result


def _kinds(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=50, help="messages sent at once")
    parser.add_argument(
        "--delay", type=float, default=6.0, help="seconds the slow link adds before Rasa answers"
    )
    parser.add_argument(
        "--reply-budget",
        type=float,
        default=4.0,
        help="WECHAT_REPLY_BUDGET_SECONDS for the gateway (more than 0, less than 5)",
    )
    add_source_arguments(parser)
    print(json.dumps(run(parser.parse_args()), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
