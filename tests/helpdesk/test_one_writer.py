"""On SQLite the help desk's write transactions in one process queue on a lock of their own
(helpdesk/one_writer.py) instead of sleeping in SQLite's busy handler: while one desk write
is open, the next does not even start its statements, and it runs the moment the first ends."""

from __future__ import annotations

import asyncio
import threading
import time

from sqlalchemy import event

import helpdesk
from core.database import get_engine, session_scope
from core.replies import Reply
from helpdesk.desk import add_citizen_message
from tests.helpdesk.support import ask_for_person, chat_lines_of
from tests.waiting import holds_for_async, wait_until_async


async def test_a_desk_write_waits_for_the_open_one_and_runs_when_it_ends(database: str) -> None:
    url = database
    first_chat = ask_for_person(url, "web:s-first").chat_id
    second_chat = ask_for_person(url, "web:s-second").chat_id
    inserts: list[str] = []

    def statement(_conn, _cursor, sql: str, *_: object) -> None:  # type: ignore[no-untyped-def]
        if sql.startswith("INSERT INTO helpdesk_messages"):
            inserts.append(threading.current_thread().name)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", statement)
    writing, release = threading.Event(), threading.Event()
    ended_at: list[float] = []

    def first_writer() -> None:
        with helpdesk.one_writer(url), session_scope(url) as session:
            add_citizen_message(session, first_chat, "web:s-first", "first")
            session.flush()  # SQLite's write lock is taken now
            writing.set()
            release.wait(30)
        ended_at.append(time.monotonic())

    second_done: list[float] = []

    def second_writer() -> list[Reply] | None:
        # The end time is taken in the writer's own thread: a task's done callback runs one
        # loop turn after done() turns true, so the assertion below could find it missing.
        replies = helpdesk.desk_turn(url, "web:s-second", "second")
        second_done.append(time.monotonic())
        return replies

    first = threading.Thread(target=first_writer)
    first.start()
    try:
        await asyncio.to_thread(writing.wait, 30)
        second = asyncio.create_task(asyncio.to_thread(second_writer))
        # Without the lock its INSERT would start now and sleep in SQLite's busy handler.
        await holds_for_async(
            lambda: len(inserts) == 1 and not second.done(), 1.0, "the second write waits"
        )
    finally:
        release.set()
        await asyncio.to_thread(first.join, 30)
    await wait_until_async(lambda: second.done(), 30, "the second write to run", interval=0.01)
    event.remove(engine, "before_cursor_execute", statement)

    acknowledged = second.result()
    assert acknowledged is not None
    assert [reply.text for reply in acknowledged] == [
        helpdesk.desk_text("waiting_ack", "en", position=2)
    ]
    assert len(inserts) == 2
    assert second_done[0] >= ended_at[0]
    assert [text for _, text, _ in chat_lines_of(url, second_chat)] == ["second"]
