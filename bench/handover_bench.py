"""The help desk under load: 50 citizens waiting, 5 staff claiming and answering.

The target of issue 13: "50 citizens waiting and 5 staff replying: every message delivered
once, in order; a staff reply reaches a web chat page in <= 2 s". The real gateway app (web
chat and console) is served by uvicorn on a real port, on a fresh SQLite file (or
DATABASE_URL). Rasa is not involved: a queued or held citizen's messages never reach it
(helpdesk/citizen_turn.py), so the 50 citizens are queued the way `action_request_human`
queues them (`helpdesk.request_person`), then everything goes over HTTP as in production:

- 5 staff log in through the console's form, and each, until the queue is empty, reads the
  queue (`/admin/api/helpdesk`) and claims its first chat (the staff race for the same
  chats; a lost race is counted, and the next one is tried);
- for each chat it holds, a member of staff sends `--answers` numbered answers through the
  reply form, then ends the chat; the citizen writes `--messages` numbered messages to the
  desk through `/api/chat` from the start, while their page already polls (as app.js does);
- every citizen's page asks `/api/updates` as the page does while the help desk has the
  chat: with `wait` (long polling; the gateway answers when an answer arrives), again at once
  after each answer, and notes when each answer arrives.

Also measured, before the gateway starts: the CPU per turn of the question every citizen's
turn asks ("is a hand-over open?", helpdesk/open_chats.py) when it is not.

Checked: every answer and the "bot is back" notice reach their citizen exactly once and in
order; every citizen message is stored in order; the bot said nothing to a held citizen; the
delay from the staff member's "send" to the page seeing the answer (p50, p95, max) is at
most 2 s. The 55 clients and the gateway share this machine, so the delays are an upper bound.

    .venv/bin/python -m bench.handover_bench [--citizens 50] [--staff 5] [--answers 5]
        [--messages 3] [--json] [--no-results] [--steps]

With `--steps` the gateway times each step of every answer (bench/handover_steps.py) and the
result adds each step's p50/p95/max and the timelines of the five slowest answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import psutil

import helpdesk
import staff
from bench import handover_steps
from bench.gateway_process import gateway_process
from bench.report import percentile, print_table, write_results
from bot.stack import free_port
from core.database import session_scope, upgrade_database
from core.settings import get_settings

PASSWORD = "bench password 42"
# The gateway as deployed, in its own uvicorn process (so load and server share no loop).
GATEWAY_FACTORY = "bench.webchat_load:gateway_from_environment"
STEPS_FACTORY = "bench.handover_steps:instrumented_gateway"
CONSOLE_POLL_SECONDS = 1.5  # bot/admin/static/helpdesk.js POLL_MS
LONG_POLL_SECONDS = 25  # the page's `wait` while the help desk has the chat (bot/webchat/app.js)
TARGET_SECONDS = 2.0
RUN_TIMEOUT_SECONDS = 600
DETAIL_KEYS = {
    "steps",
    "slowest_answers",
    "answers_not_once_in_order",
}  # printed below the table, as JSON
HELD_MESSAGE = "citizen message while held"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _Ledger:
    """What was sent and seen, for the checks and the delays."""

    def __init__(self) -> None:
        self.sent_at: dict[str, float] = {}  # answer text -> when its "send" started
        self.expected: dict[str, list[str]] = defaultdict(list)  # session -> answers in order
        self.seen: dict[str, list[str]] = defaultdict(list)  # session -> texts as the page saw
        self.delays: list[float] = []
        self.lost_races = 0
        self.bot_spoke = 0
        self.ended: set[str] = set()
        self.chats: dict[str, int] = {}  # session -> its chat
        self.delivered_after: list[float] = []  # "send" to the outbox holding it (the POST)
        self.cpu: dict[str, Any] = {}
        self.posted_at: dict[str, float] = {}  # answer text -> when the console's POST returned
        self.seen_at: dict[str, float] = {}  # answer text -> when the page had it

    def after_post(self) -> list[float]:
        """From the console's POST returning to the page having the answer (the long poll's
        share of the delay; below 0 when the page had it before the POST returned)."""
        return [
            self.seen_at[text] - at for text, at in self.posted_at.items() if text in self.seen_at
        ]


async def _log_in(client: httpx.AsyncClient, name: str) -> str:
    page = await client.get("/admin/login")
    token = _CSRF.search(page.text)
    assert token, "the login page has a form token"
    response = await client.post(
        "/admin/login", data={"csrf_token": token.group(1), "name": name, "password": PASSWORD}
    )
    assert response.status_code == 303, f"{name} could not log in: {response.status_code}"
    return str((await client.get("/admin/api/me")).json()["csrf_token"])


async def _staff_member(
    base_url: str, name: str, args: argparse.Namespace, ledger: _Ledger
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        token = await _log_in(client, name)
        while True:
            queue = (await client.get("/admin/api/helpdesk")).json()["queue"]
            if not queue:
                return
            chat_id = queue[0]["id"]
            claimed = await client.post(
                "/admin/helpdesk/claim", data={"csrf_token": token, "chat_id": chat_id}
            )
            if not claimed.headers.get("location", "").endswith("notice=claimed"):
                ledger.lost_races += 1
                continue
            session_id = await asyncio.to_thread(_session_of, args.database_url, chat_id, name)
            ledger.chats[session_id] = chat_id
            for number in range(args.answers):
                text = f"chat {chat_id} answer {number}"
                ledger.expected[session_id].append(text)
                ledger.sent_at[text] = time.time()
                response = await client.post(
                    "/admin/helpdesk/reply",
                    data={"csrf_token": token, "chat_id": chat_id, "text": text},
                )
                assert response.status_code == 303, response.text
                ledger.posted_at[text] = time.time()
                ledger.delivered_after.append(ledger.posted_at[text] - ledger.sent_at[text])
            # The citizen answers once they see an answer; end only after reading it, which
            # the console's chat page shows at its own pace (helpdesk.js polls every 1.5 s).
            while not await _citizen_answered(client, chat_id):
                await asyncio.sleep(CONSOLE_POLL_SECONDS)
            await client.post("/admin/helpdesk/end", data={"csrf_token": token, "chat_id": chat_id})
            ledger.ended.add(session_id)


async def _citizen_answered(client: httpx.AsyncClient, chat_id: int) -> bool:
    state = (await client.get("/admin/api/helpdesk", params={"chat": chat_id})).json()
    return any(line["text"] == HELD_MESSAGE for line in state["messages"])


async def _citizen(
    base_url: str, session_id: str, args: argparse.Namespace, ledger: _Ledger
) -> None:
    """Writes to the desk while waiting, long-polls like the page, and writes once more while held."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        # The page polls from the moment the citizen asked for a person and sends
        # independently of its poll (app.js), so the first messages do not hold it back.
        first_messages = asyncio.create_task(_write_while_waiting(client, session_id, args))
        cursor, answered, wait = 0, False, 0
        writing: asyncio.Task[None] | None = None
        while True:
            params: dict[str, str | int] = {"session_id": session_id, "after": cursor, "wait": wait}
            response = await client.get("/api/updates", params=params)
            assert response.status_code == 200, f"{session_id}: {response.text}"
            updates = response.json()
            now = time.time()
            for reply in updates["replies"]:
                ledger.seen[session_id].append(reply["text"])
                if reply["text"] in ledger.sent_at:
                    ledger.delays.append(now - ledger.sent_at[reply["text"]])
                    ledger.seen_at[reply["text"]] = now
            cursor = updates["cursor"]
            for task in (first_messages, writing):
                if task is not None and task.done():
                    task.result()  # a failed send stops the run with its error
            if ledger.seen[session_id] and not answered:
                # The page sends while it keeps waiting for answers (app.js: send and the
                # poll are independent requests), so the poll does not wait for this one.
                answered = True
                writing = asyncio.create_task(
                    _write_while_held(client, session_id, ledger, first_messages)
                )
            if session_id in ledger.ended and "poll_seconds" not in updates:
                await first_messages
                if writing is not None:
                    await writing
                return
            if "poll_seconds" not in updates:  # not at the desk (yet): the page's own pace
                await asyncio.sleep(1)
            wait = LONG_POLL_SECONDS if "poll_seconds" in updates else 0


async def _write_while_waiting(
    client: httpx.AsyncClient, session_id: str, args: argparse.Namespace
) -> None:
    for number in range(args.messages):
        response = await client.post(
            "/api/chat", json={"session_id": session_id, "text": f"citizen message {number}"}
        )
        assert response.status_code == 200, f"{session_id}: {response.text}"


async def _write_while_held(
    client: httpx.AsyncClient, session_id: str, ledger: _Ledger, before: asyncio.Task[None]
) -> None:
    await before  # the citizen's earlier messages go first, in order
    response = await client.post("/api/chat", json={"session_id": session_id, "text": HELD_MESSAGE})
    assert response.status_code == 200, f"{session_id}: {response.text}"
    ledger.bot_spoke += len(response.json()["replies"])


def _session_of(url: str, chat_id: int, staff_name: str) -> str:
    with session_scope(url) as session:
        return helpdesk.visible_chat(session, chat_id, staff_name).recipient_id


def _is_held(url: str, session_id: str) -> bool:
    with session_scope(url) as session:
        chat = helpdesk.open_chat_for(session, f"web:{session_id}")
    return chat is not None and chat.status == "held"


async def _run(base_url: str, sessions: list[str], args: argparse.Namespace) -> _Ledger:
    ledger = _Ledger()
    # One gather: a client that fails (a request timed out, a refused request) stops the run
    # with its error instead of leaving the others waiting for it.
    await asyncio.wait_for(
        asyncio.gather(
            *(_citizen(base_url, session_id, args, ledger) for session_id in sessions),
            *(_staff_member(base_url, f"desk{n}", args, ledger) for n in range(args.staff)),
        ),
        timeout=RUN_TIMEOUT_SECONDS,
    )
    return ledger


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        url = get_settings().database_url or f"sqlite:///{data_dir / 'handover.db'}"
        upgrade_database(url)
        args.database_url = url
        sessions = [f"bench-{n:03d}" for n in range(args.citizens)]
        with session_scope(url) as session:
            helpdesk.set_office_hours(session, "mon-sun 00:00-24:00", "bench")
            for n in range(args.staff):
                staff.add_staff(session, f"desk{n}", "helpdesk", PASSWORD)
            for session_id in sessions:
                helpdesk.request_person(session, f"web:{session_id}", channel="web", language="en")
        turn_check = _desk_check_cpu_us(url)
        env = dict(os.environ)
        env.update(
            {
                "LEARNCITY_DATA_DIR": str(data_dir),
                "DATABASE_URL": url,
                "RASA_URL": f"http://127.0.0.1:{free_port()}",  # never asked: citizens are queued
                "LEARNCITY_LOG_LEVEL": "WARNING",
            }
        )
        started = time.monotonic()
        port = free_port()
        load_before = os.getloadavg()
        own_cpu = time.process_time()
        factory = GATEWAY_FACTORY
        if args.steps:  # the same gateway with a stopwatch on each step (bench/handover_steps.py)
            factory, env[handover_steps.STEPS_FILE] = STEPS_FACTORY, str(data_dir / "steps.jsonl")
        with gateway_process(factory, env, port, data_dir / "gateway.log") as gateway:
            gateway_cpu = _cpu_seconds(gateway.pid)
            ledger = asyncio.run(_run(gateway.url, sessions, args))
            ledger.cpu = {
                "desk_check_cpu_us_per_turn": turn_check["index_lookup"],
                "desk_check_former_orm_cpu_us_per_turn": turn_check["former_orm"],
                "gateway_cpu_s": round(_cpu_seconds(gateway.pid) - gateway_cpu, 2),
                "clients_cpu_s": round(time.process_time() - own_cpu, 2),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            }
        elapsed = time.monotonic() - started
        stored = _stored_messages(url, ledger.chats)
        result = _summary(ledger, stored, sessions, args, elapsed)
        if args.steps:
            steps_file = env[handover_steps.STEPS_FILE]
            result["steps"] = handover_steps.step_totals(steps_file)
            result["slowest_answers"] = handover_steps.slowest_answers(
                steps_file, ledger.sent_at, ledger.seen_at
            )
    return result


def _desk_check_cpu_us(url: str, turns: int = 2000) -> dict[str, float]:
    """CPU per citizen turn of the gateway's question "is a hand-over open?" when none is
    (the common case; 50 other citizens are at the desk), in microseconds; beside it the
    former way (an ORM session reading the whole chat), for comparison."""

    def former(sender_id: str) -> None:
        with session_scope(url) as session:
            assert helpdesk.open_chat_for(session, sender_id) is None

    def now(sender_id: str) -> None:
        assert helpdesk.desk_turn(url, sender_id, "hello") is None

    cost = {}
    for name, check in (("former_orm", former), ("index_lookup", now)):
        check("web:warm-up")
        started = time.process_time()
        for number in range(turns):
            check(f"web:not-at-the-desk-{number}")
        cost[name] = round(1e6 * (time.process_time() - started) / turns, 1)
    return cost


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (wall times are inflated by load)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _stored_messages(url: str, chats: dict[str, int]) -> dict[str, list[str]]:
    """What the desk stored of each citizen's messages, in order."""
    with session_scope(url) as session:
        return {
            session_id: [
                line.text
                for line in helpdesk.chat_lines(session, chat_id)
                if line.author == "citizen"
            ]
            for session_id, chat_id in chats.items()
        }


def _summary(
    ledger: _Ledger,
    stored: dict[str, list[str]],
    sessions: list[str],
    args: argparse.Namespace,
    elapsed: float,
) -> dict[str, Any]:
    resumed = helpdesk.desk_text("resumed", "en")
    wrong_order = [
        session_id
        for session_id in sessions
        if ledger.seen[session_id] != [*ledger.expected[session_id], resumed]
    ]
    messages_wrong = [
        session_id
        for session_id in sessions
        if stored.get(session_id)
        != [*(f"citizen message {n}" for n in range(args.messages)), HELD_MESSAGE]
    ]
    answers = sum(len(texts) for texts in ledger.expected.values())
    delays = ledger.delays
    result = {
        "citizens": args.citizens,
        "staff": args.staff,
        "answers_sent": answers,
        "answers_seen": sum(
            len([t for t in texts if t != resumed]) for texts in ledger.seen.values()
        ),
        "citizens_with_answers_not_once_in_order": len(wrong_order),
        "citizens_with_messages_lost_or_out_of_order": len(messages_wrong),
        "bot_replies_while_held": ledger.bot_spoke,
        "lost_claim_races": ledger.lost_races,
        "send_to_outbox_p50_s": round(percentile(ledger.delivered_after, 50), 3),
        "send_to_outbox_max_s": round(max(ledger.delivered_after), 3)
        if ledger.delivered_after
        else None,
        "post_to_page_p95_s": round(percentile(ledger.after_post(), 95), 3),
        "post_to_page_max_s": round(max(ledger.after_post(), default=0.0), 3),
        "delay_p50_s": round(percentile(delays, 50), 3),
        "delay_p95_s": round(percentile(delays, 95), 3),
        "delay_max_s": round(max(delays), 3) if delays else None,
        "target_delay_s": TARGET_SECONDS,
        "elapsed_s": round(elapsed, 1),
        **ledger.cpu,
    }
    result["answers_not_once_in_order"] = [  # what those pages saw, against what was sent
        {"page": session_id, "seen": ledger.seen[session_id], "sent": ledger.expected[session_id]}
        for session_id in wrong_order[:3]
    ]
    result["target_met"] = (
        not wrong_order
        and not messages_wrong
        and ledger.bot_spoke == 0
        and answers == result["answers_seen"]
        and bool(delays)
        and max(delays) <= TARGET_SECONDS
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--staff", type=int, default=5)
    parser.add_argument("--answers", type=int, default=5, help="answers per chat")
    parser.add_argument("--messages", type=int, default=3, help="citizen messages per chat")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--no-results", action="store_true", help="do not write bench/results/")
    parser.add_argument(
        "--steps",
        action="store_true",
        help="time each step of every answer in the gateway and show the slowest answers",
    )
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_table(
            "Help desk: citizens waiting, staff answering (web chat)",
            ["measure", "value"],
            [[key, value] for key, value in result.items() if key not in DETAIL_KEYS],
        )
        for key in DETAIL_KEYS & result.keys():
            print(f"{key}: {json.dumps(result[key], indent=1)}")
    if not args.no_results:
        write_results("handover", result)
    raise SystemExit(0 if result["target_met"] else 1)


if __name__ == "__main__":
    main()
