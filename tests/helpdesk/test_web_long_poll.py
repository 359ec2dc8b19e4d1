"""The web chat page during a hand-over long-polls `/api/updates?wait=N`: the gateway holds the
request and answers as soon as a reply for the page is in the outbox, whether this gateway put
it there (the console's answer) or another process did (another replica, a broadcast worker)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event

import helpdesk
import staff
from bot.admin.helpdesk_pages import HelpdeskPages
from bot.channels import web
from bot.channels.web import WebChannel, WebSender
from bot.conversation import Conversation
from bot.gateway import create_app
from bot.messages import Reply
from bot.stack import free_port
from core.database import get_engine, session_scope, upgrade_database
from tests.admin.console_support import PASSWORD, csrf_token_in, log_in
from tests.fakes.loopback import serving_in_this_loop
from tests.helpdesk.support import ask_for_person
from tests.waiting import wait_until_async

WAIT = 20  # seconds the page asks the gateway to hold the request


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, WebChannel, str]]:
    """A gateway on a real port and a temp database, no Rasa (the outbox only)."""
    url = f"sqlite:///{tmp_path / 'longpoll.db'}"
    upgrade_database(url)
    conversation = Conversation(f"http://127.0.0.1:{free_port()}", timeout=2, database_url=url)
    channel = WebChannel(conversation)
    async with serving_in_this_loop(create_app(conversation, [channel]), free_port()) as base:
        yield base, channel, url
    await conversation.close()


async def _wait_for_answer(
    base: str, channel: WebChannel, session_id: str, send: object
) -> tuple[list[str], float]:
    """Start a long poll, send once the gateway holds it; (texts received, seconds after send)."""
    async with httpx.AsyncClient(base_url=base, timeout=WAIT + 10) as client:
        poll = asyncio.create_task(
            client.get("/api/updates", params={"session_id": session_id, "wait": WAIT})
        )
        await wait_until_async(
            lambda: channel.wakeups.waiting_pages() == 1, 10, "the page to wait", interval=0.01
        )
        sent_at = time.monotonic()
        await send  # type: ignore[misc]
        body = (await poll).json()
        return [reply["text"] for reply in body["replies"]], time.monotonic() - sent_at


async def test_a_waiting_page_gets_the_answer_this_gateway_sends_at_once(
    served: tuple[str, WebChannel, str],
) -> None:
    base, channel, _ = served
    channel.wakeups.watch_seconds = 3 * WAIT  # only this gateway's own wake-up can answer early
    answer = [Reply(text="Bonjour, ici l'accueil de la ville.", language="fr")]

    texts, after = await _wait_for_answer(
        base, channel, "page-1", channel.sender().send("page-1", answer)
    )

    assert texts == ["Bonjour, ici l'accueil de la ville."]
    # Without the wake-up the gateway would answer only when the wait is over.
    assert after < WAIT / 2, f"answered {after:.1f} s after the send"


async def test_a_waiting_page_gets_an_answer_another_process_put_in_the_outbox(
    served: tuple[str, WebChannel, str],
) -> None:
    base, channel, url = served
    # Another gateway replica's console or a broadcast worker: its own sender, no shared wake-up.
    elsewhere = WebSender(url)

    texts, after = await _wait_for_answer(
        base, channel, "page-2", elsewhere.send("page-2", [Reply(text="answer from replica B")])
    )

    assert texts == ["answer from replica B"]
    assert after < WAIT / 2, f"answered {after:.1f} s after the send"


async def test_a_page_that_goes_away_stops_waiting(served: tuple[str, WebChannel, str]) -> None:
    base, channel, _ = served
    async with httpx.AsyncClient(base_url=base, timeout=WAIT + 10) as client:
        poll = asyncio.create_task(
            client.get("/api/updates", params={"session_id": "page-3", "wait": WAIT})
        )
        await wait_until_async(
            lambda: channel.wakeups.waiting_pages() == 1, 10, "the page to wait", interval=0.01
        )
        poll.cancel()  # the tab closed: the connection goes
    await wait_until_async(
        lambda: channel.wakeups.waiting_pages() == 0,
        WAIT / 2,
        "the gateway to let go",
        interval=0.01,
    )


@pytest.mark.parametrize("wait", ["soon", "-1", "26"])
async def test_a_bad_wait_is_refused_naming_the_field(
    served: tuple[str, WebChannel, str], wait: str
) -> None:
    base, _, _ = served
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/api/updates", params={"session_id": "p", "wait": wait})

    assert response.status_code == 400
    assert response.json()["error"] == "field wait: seconds to wait, 0 to 25"


async def _held_chat(base: str, url: str, session_id: str) -> tuple[httpx.AsyncClient, str, int]:
    """A web citizen whose chat a logged-in member of staff holds: (their client, token, chat)."""
    with session_scope(url) as session:
        staff.add_staff(session, "ana", "helpdesk", PASSWORD)
    ticket = ask_for_person(url, f"web:{session_id}", language="es")
    console = httpx.AsyncClient(base_url=base, timeout=WAIT + 10)
    assert (await log_in(console, "ana")).status_code == 303
    token = csrf_token_in((await console.get("/admin/helpdesk")).text)
    await console.post(
        "/admin/helpdesk/claim", data={"csrf_token": token, "chat_id": ticket.chat_id}
    )
    return console, token, ticket.chat_id


async def test_a_staff_answer_to_a_web_chat_is_one_write_transaction(
    served: tuple[str, WebChannel, str],
) -> None:
    """Stored, put in the page's outbox and marked delivered with one commit: each commit
    waited for SQLite's one writer, and three per answer made the slow tail (issue 13)."""
    base, channel, url = served
    channel.wakeups.watch_seconds = 3 * WAIT  # only the console's own wake-up can answer early
    console, token, chat_id = await _held_chat(base, url, "page-4")
    writes: list[str] = []
    commits_with_writes: list[list[str]] = []

    def statement(conn, _cursor, sql: str, *_: object) -> None:  # type: ignore[no-untyped-def]
        if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(sql.split("(", 1)[0][:40])

    def commit(_conn) -> None:  # type: ignore[no-untyped-def]
        if writes:
            commits_with_writes.append(writes[:])
            writes.clear()

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        reply = console.post(
            "/admin/helpdesk/reply",
            data={"csrf_token": token, "chat_id": chat_id, "text": "Hola, ¿en qué le ayudo?"},
        )
        texts, after = await _wait_for_answer(base, channel, "page-4", reply)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        await console.aclose()

    assert texts == ["Hola, ¿en qué le ayudo?"]
    assert after < WAIT / 2, f"answered {after:.1f} s after the send"
    assert len(commits_with_writes) == 1, commits_with_writes
    with session_scope(url) as session:
        assert [line.delivered for line in helpdesk.chat_lines(session, chat_id)] == [True]


async def test_a_woken_page_is_answered_while_the_default_thread_pool_is_busy(
    served: tuple[str, WebChannel, str],
) -> None:
    """Citizens' turns keep asyncio's few default threads busy under load; a woken page's
    outbox read has threads of its own, so it does not queue behind them (issue 13)."""
    base, channel, url = served
    channel.wakeups.watch_seconds = 3 * WAIT
    console, token, chat_id = await _held_chat(base, url, "page-5")
    release = threading.Event()
    loop = asyncio.get_running_loop()
    busy = [loop.run_in_executor(None, release.wait, 2 * WAIT) for _ in range(40)]
    try:
        reply = console.post(
            "/admin/helpdesk/reply",
            data={"csrf_token": token, "chat_id": chat_id, "text": "Un momento, por favor."},
        )
        texts, after = await asyncio.wait_for(
            _wait_for_answer(base, channel, "page-5", reply), WAIT
        )
    finally:
        release.set()
        await asyncio.gather(*busy)
        await console.aclose()

    assert texts == ["Un momento, por favor."]
    assert after < WAIT / 2, f"answered {after:.1f} s after the send"


async def test_a_page_told_the_desk_is_done_has_the_bot_is_back_notice(
    served: tuple[str, WebChannel, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end (and its notice) commits exactly between the page's two reads: the answer
    that no longer says `poll_seconds` still carries the notice."""
    base, channel, url = served
    console, _, chat_id = await _held_chat(base, url, "page-6")
    await console.aclose()
    pages = HelpdeskPages(url, lambda: {"web": channel.sender()})
    ana = staff.StaffSession("ana", "helpdesk", "token", datetime.now(UTC) + timedelta(hours=1))
    asked = web.is_handed_over

    def end_commits_first(database_url: str | None, sender_id: str) -> bool:
        ended, _ = pages._end(ana, chat_id, "198.51.100.7")
        assert ended
        return asked(database_url, sender_id)

    monkeypatch.setattr(web, "is_handed_over", end_commits_first)
    async with httpx.AsyncClient(base_url=base, timeout=WAIT + 10) as client:
        body = (await client.get("/api/updates", params={"session_id": "page-6"})).json()

    assert "poll_seconds" not in body, "the desk is done"
    assert [reply["text"] for reply in body["replies"]] == [helpdesk.desk_text("resumed", "es")]
