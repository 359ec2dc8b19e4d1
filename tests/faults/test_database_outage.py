"""PostgreSQL stopped for 25 s under load, through the real stack: no reply looks normal unless
its turn was stored, and "forget me" never says "done" without having erased.

The test starts a PostgreSQL of its own (tests/faults/postgres.py), the real Rasa server and
action server on it (the trained model from .data/models), and talks through the gateway's
`Conversation` as every channel does. Six citizens chat without pause; two of them, who
subscribed before, ask to be forgotten while the database is down. Then the database comes
back and the test measures how long until citizens get real answers again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, text

from actions.messages import say
from bot.kind_replies import TRY_AGAIN
from tests.conftest import SHARED_MODELS_DIR
from tests.conversations.support import rows_about
from tests.environment import settings_from_environment
from tests.faults.postgres import TemporaryPostgres
from tests.services import require_postgres_binaries
from tests.waiting import wait_until_async

pytestmark = pytest.mark.slow

CHATTERS = 6
OUTAGE_SECONDS = 25.0
PHRASES = ("hello", "help", "what can you do", "hi there")


@dataclass
class Turn:
    sender: str
    text: str
    sent_at: float
    kind: str  # "normal", "try again", "none"
    reply: str = ""
    answered_at: float = 0.0


@dataclass
class Timeline:
    stopped_at: float = 0.0  # the database refuses connections from here
    restarting_at: float = 0.0  # asked to start again (it may accept from here on)
    started_at: float = 0.0  # accepting connections again
    turns: list[Turn] = field(default_factory=list)


def _kind(replies: list) -> tuple[str, str]:
    shown = "\n".join(reply.text for reply in replies)
    if not replies:
        return "none", shown
    # In any language: the gateway picks it from the citizen's words ("hello 4" may read as
    # Spanish), the actions from the conversation.
    kind_sentences = [*TRY_AGAIN.values(), *(say("try_again", lang) for lang in TRY_AGAIN)]
    if any(sentence in shown for sentence in kind_sentences):
        return "try again", shown
    return "normal", shown


@pytest.fixture(scope="module")
def stack_on_own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    require_postgres_binaries()  # the test stops and starts a PostgreSQL of its own
    from bot.conversation import Conversation
    from bot.stack import free_port, running_assistant
    from bot.supervisor import StackPorts

    data_dir = tmp_path_factory.mktemp("outage")
    with TemporaryPostgres() as postgres:
        overrides = {
            "LEARNCITY_DATA_DIR": str(data_dir),
            "LEARNCITY_MODELS_DIR": str(SHARED_MODELS_DIR),
            "DATABASE_URL": postgres.url,
        }
        with settings_from_environment(overrides) as settings:
            ports = StackPorts(rasa=free_port(), actions=free_port())
            with running_assistant(settings, ports) as supervisor:
                conversation = Conversation(
                    supervisor.rasa_url,
                    timeout=30,
                    database_url=postgres.url,
                    auth_token=supervisor.rasa_token,
                )
                yield postgres, conversation, data_dir


async def _talk(
    conversation,
    timeline: Timeline,
    sender: str,
    message_text: str | None = None,
    payload: str | None = None,
) -> Turn:
    from bot.messages import IncomingMessage

    sent_at = time.monotonic()
    replies = await conversation.handle(
        IncomingMessage(sender_id=sender, channel="web", text=message_text, payload=payload)
    )
    kind, shown = _kind(replies)
    turn = Turn(sender, message_text or payload or "", sent_at, kind, shown, time.monotonic())
    timeline.turns.append(turn)
    return turn


def _stored_user_texts(url: str, sender: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
                {"s": sender},
            ).all()
    finally:
        engine.dispose()
    return [json.loads(data).get("text") or "" for (data,) in rows]


async def test_database_outage_never_answers_normally_without_storing_the_turn(
    stack_on_own_postgres: tuple, caplog: pytest.LogCaptureFixture
) -> None:
    postgres, conversation, data_dir = stack_on_own_postgres
    timeline = Timeline()
    chatters = [f"web:chat-{uuid.uuid4().hex[:8]}" for _ in range(CHATTERS)]
    forgetters = [f"web:forget-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for sender in forgetters:
        await _talk(
            conversation, timeline, sender, payload='/subscribe_events{"topic": "robotics"}'
        )
        await _talk(conversation, timeline, sender, payload="/affirm")
        assert rows_about(postgres.url, sender).get("event_subscriptions.sender_id") == 1
    done_prefix = say("forget_done", "en", count=0).split("(")[0].strip()
    stop = asyncio.Event()

    async def chat(sender: str) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            await _talk(
                conversation, timeline, sender, f"{PHRASES[number % len(PHRASES)]} {number}"
            )
            await asyncio.sleep(0.02)

    async def forget_during_outage(sender: str) -> list[Turn]:
        await wait_until_async(lambda: timeline.stopped_at, 300, "the database to be stopped")
        await asyncio.sleep(3)  # not a wait: ask a few seconds into the outage
        return [
            await _talk(conversation, timeline, sender, "forget me"),
            await _talk(conversation, timeline, sender, payload="/affirm"),
        ]

    load = [asyncio.create_task(chat(sender)) for sender in chatters]
    forgetting = [asyncio.create_task(forget_during_outage(s)) for s in forgetters]

    def normal_turns_each(count: int) -> bool:
        normal = [t.sender for t in timeline.turns if t.kind == "normal"]
        return all(normal.count(sender) >= count for sender in chatters)

    # The stack is under load, every citizen answered normally, before the database stops.
    await wait_until_async(lambda: normal_turns_each(2), 180, "two normal answers per citizen")
    await asyncio.to_thread(postgres.stop)
    timeline.stopped_at = time.monotonic()
    await asyncio.sleep(OUTAGE_SECONDS)
    timeline.restarting_at = time.monotonic()
    start_seconds = await asyncio.to_thread(postgres.start)
    timeline.started_at = time.monotonic()

    def answered_again() -> set[str]:
        return {
            t.sender
            for t in timeline.turns
            if t.kind == "normal" and t.sent_at >= timeline.started_at
        }

    await wait_until_async(
        lambda: answered_again() >= set(chatters),
        120,
        "every citizen answered normally after the restart",
        interval=0.2,
        details=answered_again,
    )
    await asyncio.sleep(3)  # not a wait: a little more load once all are back
    stop.set()
    await asyncio.gather(*load)
    forget_turns = [turn for turns in await asyncio.gather(*forgetting) for turn in turns]

    # Every reply that looked normal: was its turn stored?
    unstored = []
    for sender in chatters:
        stored = set(_stored_user_texts(postgres.url, sender))
        unstored += [
            t
            for t in timeline.turns
            if t.sender == sender and t.kind == "normal" and t.text not in stored
        ]
    during = [  # asked and answered while the database was certainly down
        t
        for t in timeline.turns
        if t.sender in chatters
        and timeline.stopped_at <= t.sent_at
        and t.answered_at < timeline.restarting_at
    ]
    false_forgets = [
        t
        for t in forget_turns
        if done_prefix in t.reply and sum(rows_about(postgres.url, t.sender).values()) > 0
    ]
    after = sorted(
        t.sent_at for t in timeline.turns if t.kind == "normal" and t.sent_at >= timeline.started_at
    )
    first_back = after[0] - timeline.started_at if after else float("inf")
    all_back = max(
        min(
            t.sent_at
            for t in timeline.turns
            if t.sender == s and t.kind == "normal" and t.sent_at >= timeline.started_at
        )
        - timeline.started_at
        for s in chatters
    )
    kinds = {
        kind: sum(1 for t in during if t.kind == kind) for kind in ("normal", "try again", "none")
    }
    print(
        f"\ndatabase outage {OUTAGE_SECONDS:.0f} s under load ({CHATTERS} citizens): "
        f"{len(timeline.turns)} turns, during the outage {kinds}; normal replies not stored: "
        f"{len(unstored)}; 'forget me' successes that erased nothing: {len(false_forgets)}; "
        f"PostgreSQL took {start_seconds:.1f} s to start; first real answer {first_back:.1f} s "
        f"after it accepted connections, every citizen answered again within {all_back:.1f} s"
    )
    gateway_errors = [
        record.getMessage()
        for record in caplog.records
        if record.name == "bot.conversation" and record.levelno >= logging.ERROR
    ]
    print(f"gateway log lines during the outage: {len(gateway_errors)}: {gateway_errors[:1]}")
    failing = [t.answered_at for t in timeline.turns if t.kind == "try again"]
    span = max(failing) - min(failing)
    # Once, not once per turn: the gateway repeats a failure's line at most every 30 s.
    assert 1 <= len(gateway_errors) <= 1 + int(span // 30), (span, gateway_errors)
    assert "conversation database is unavailable" in gateway_errors[0]
    assert unstored == [], unstored[:5]
    assert false_forgets == []
    assert kinds["normal"] == 0 and kinds["try again"] > 0
    assert all(t.kind == "try again" for t in forget_turns), forget_turns
    for sender in forgetters:  # nothing was erased, and the citizen was not told otherwise
        assert rows_about(postgres.url, sender).get("event_subscriptions.sender_id") == 1
    # After the outage, "forget me" works and really erases.
    sender = forgetters[0]
    asked = await _talk(conversation, timeline, sender, "forget me")
    done = await _talk(conversation, timeline, sender, payload="/affirm")
    assert asked.kind == "normal" and done_prefix in done.reply, (asked, done)
    assert sum(rows_about(postgres.url, sender).values()) == 0
    assert all_back < 30
    log = (data_dir / "logs").glob("rasa-server*.log")
    lines = [
        line
        for path in log
        for line in path.read_text(errors="replace").splitlines()
        if "conversation database unavailable" in line
    ]
    assert 1 <= len(lines) <= 2, lines  # once per Rasa server and outage, not per turn
