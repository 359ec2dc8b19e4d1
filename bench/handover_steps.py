"""Where the seconds of a help-desk answer go: the gateway with a stopwatch on every step.

`python -m bench.handover_bench --steps` serves this factory instead of the plain gateway. It
is the same app (bench.webchat_load's factory), with timers wrapped around the steps an answer
takes on its way to a web chat page, each request's steps written as one JSON line to
`HANDOVER_STEPS_FILE`:
- the console's `POST /admin/helpdesk/reply`: the staff session read (`auth`), storing the
  answer (`store`; for a web chat this also puts it in the page's outbox and marks it
  delivered, in the same transaction), and for other channels finding it undelivered
  (`undelivered`), sending it (`outbox_put` for the web sender) and marking it (`mark`);
- the page's `GET /api/updates`: each read of its outbox (`read`, with the texts it found);
- inside those: every write statement (`write`, where SQLite waits for its one writer's
  lock) and every commit (`commit`, where the write-ahead log is written and synced).
What the steps do not cover (the gaps) is the event loop and the wait for a worker thread.
Timers only: no step's behaviour changes.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

STEPS_FILE = "HANDOVER_STEPS_FILE"
_current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "handover_step_request", default=None
)
_write_lock = threading.Lock()


def _note(name: str, started: float, **detail: Any) -> None:
    request = _current.get()
    if request is not None:
        request["steps"].append([name, round(started, 6), round(time.time() - started, 6)])
        request.update(detail)


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.time()
        result = function(*args, **kwargs)
        _note(name, started)
        return result

    return wrapper


def _timed_async(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.time()
        result = await function(*args, **kwargs)
        _note(name, started)
        return result

    return wrapper


def _install_timers() -> None:
    from bot.admin import access
    from bot.admin.helpdesk_pages import HelpdeskPages
    from bot.channels import web
    from bot.web_wakeups import OutboxWakeups

    access._live_session = _timed("auth", access._live_session)  # type: ignore[attr-defined]
    answer = HelpdeskPages._answer

    def store(self: Any, chat_id: int, staff_name: str, text: str, canned: str | None) -> Any:
        started = time.time()
        put = answer(self, chat_id, staff_name, text, canned)
        _note("store", started, answer=text)
        return put

    HelpdeskPages._answer = store  # type: ignore[method-assign]
    HelpdeskPages._undelivered = _timed("undelivered", HelpdeskPages._undelivered)  # type: ignore[method-assign]
    HelpdeskPages._mark = _timed("mark", HelpdeskPages._mark)  # type: ignore[method-assign]
    web.WebSender._put = _timed("outbox_put", web.WebSender._put)  # type: ignore[method-assign]
    read_outbox = web._read_outbox

    def read(database_url: str | None, session_id: str, after: int) -> Any:
        started = time.time()
        waiting, held = read_outbox(database_url, session_id, after)
        request = _current.get()
        if request is not None and waiting:
            request.setdefault("found", []).extend(update.reply.get("text") for update in waiting)
        _note("read", started)
        return waiting, held

    web._read_outbox = read
    start_watcher = OutboxWakeups._start_watcher

    def watcher_of_its_own(self: OutboxWakeups) -> None:
        # The watcher task would inherit the context of the page that started it and its
        # reads would count as that page's steps; it runs with none.
        contextvars.Context().run(start_watcher, self)

    OutboxWakeups._start_watcher = watcher_of_its_own  # type: ignore[method-assign]
    Session.commit = _timed("commit", Session.commit)  # type: ignore[method-assign]

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info["step_started"] = time.time()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("SELECT"):
            _note("write", conn.info.pop("step_started", time.time()))


class _StepRecorder:
    """ASGI middleware: one JSON line per timed request (the console's reply, the page's updates)."""

    def __init__(self, app: Any, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = scope.get("path", "") if scope["type"] == "http" else ""
        if route not in ("/admin/helpdesk/reply", "/api/updates"):
            await self.app(scope, receive, send)
            return
        request: dict[str, Any] = {"path": route, "t0": time.time(), "steps": []}
        token = _current.set(request)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
            request["t1"] = time.time()
            line = json.dumps(request, ensure_ascii=False)
            with _write_lock, open(self.path, "a", encoding="utf-8") as output:
                output.write(line + "\n")


def instrumented_gateway():  # type: ignore[no-untyped-def]
    """uvicorn factory: the benchmark's gateway with the timers above (HANDOVER_STEPS_FILE)."""
    from bench.webchat_load import gateway_from_environment

    _install_timers()
    return _StepRecorder(gateway_from_environment(), os.environ[STEPS_FILE])


def slowest_answers(
    path: str, sent_at: dict[str, float], seen_at: dict[str, float], count: int = 5
) -> list[dict[str, Any]]:
    """The `count` slowest answers, each as a timeline in seconds from the staff's "send":
    the console's request (arrived, each step, answered) and the page's read that found it."""
    replies: dict[str, dict[str, Any]] = {}
    found_by: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            request = json.loads(line)
            if "answer" in request:
                replies[request["answer"]] = request
            for text in request.get("found", []):
                found_by.setdefault(text, request)
    slowest = sorted(seen_at, key=lambda text: seen_at[text] - sent_at[text], reverse=True)
    timelines = []
    for text in slowest[:count]:
        start = sent_at[text]
        post, page = replies.get(text), found_by.get(text)
        timelines.append(
            {
                "answer": text,
                "delay_s": round(seen_at[text] - start, 3),
                "post": _timeline(post, start) if post else None,
                "page": _timeline(page, start) if page else None,
            }
        )
    return timelines


def _timeline(request: dict[str, Any], start: float) -> dict[str, Any]:
    return {
        "arrived_s": round(request["t0"] - start, 3),
        "steps": [  # "name at+took", by start, in seconds from the staff's "send"
            f"{name} {began - start:.3f}+{duration:.3f}"
            for name, began, duration in sorted(request["steps"], key=lambda step: step[1])
        ],
        "answered_s": round(request["t1"] - start, 3),
    }


def step_totals(path: str) -> dict[str, dict[str, float]]:
    """Per step over the whole run: how many, p50, p95 and max seconds."""
    from bench.report import percentile

    durations: dict[str, list[float]] = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            request = json.loads(line)
            durations.setdefault(f"{request['path']} (whole request)", []).append(
                request["t1"] - request["t0"]
            )
            for name, _, duration in request["steps"]:
                durations.setdefault(name, []).append(duration)
    return {
        name: {
            "n": len(values),
            "p50_s": round(percentile(values, 50), 4),
            "p95_s": round(percentile(values, 95), 4),
            "max_s": round(max(values), 4),
        }
        for name, values in sorted(durations.items())
    }
