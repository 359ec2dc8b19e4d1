"""The web chat page during a hand-over long-polls `/api/updates?wait=N`: the gateway holds the
request and answers as soon as a reply for the page is in the outbox, whether this gateway put
it there (the console's answer) or another process did (another replica, a broadcast worker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.channels.web import WebChannel, WebSender
from bot.conversation import Conversation
from bot.gateway import create_app
from bot.messages import Reply
from bot.stack import free_port
from core.database import upgrade_database
from tests.fakes.loopback import serving_in_this_loop
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
