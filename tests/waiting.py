"""Wait for a condition with a deadline, never for a fixed time: one helper for every test.

A fixed sleep is either too short on a busy machine (a flaky failure) or too long on an idle
one (a slow suite). `wait_until` polls `predicate` until it returns something truthy and
returns that value; at the deadline it fails naming what it waited for, and what it last saw
when `details` says how to show it.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def _timed_out(what: str, timeout: float, details: Callable[[], object] | None) -> AssertionError:
    message = f"timed out after {timeout:g} s waiting for {what}"
    if details is not None:
        message += f"; last seen: {details()}"
    return AssertionError(message)


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    interval: float = 0.05,
    ignore: tuple[type[BaseException], ...] = (),
    details: Callable[[], object] | None = None,
) -> T:
    """Poll `predicate` every `interval` s until it is truthy; return its value.

    Exceptions of the `ignore` types count as "not yet" (a server still starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            if value:
                return value
        except ignore:
            pass
        if time.monotonic() >= deadline:
            raise _timed_out(what, timeout, details)
        time.sleep(interval)


async def wait_until_async(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float,
    what: str,
    *,
    interval: float = 0.05,
    ignore: tuple[type[BaseException], ...] = (),
    details: Callable[[], object] | None = None,
) -> T:
    """`wait_until` for async tests: `predicate` may be a plain or a coroutine function."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value  # type: ignore[return-value]
        except ignore:
            pass
        if time.monotonic() >= deadline:
            raise _timed_out(what, timeout, details)
        await asyncio.sleep(interval)


async def holds_for_async(
    predicate: Callable[[], object], seconds: float, what: str, *, interval: float = 0.05
) -> None:
    """Check that `predicate` stays true for `seconds` (nothing more arrives, say).

    An absence can only be seen over a window; this one fails as soon as it breaks, naming
    `what`, instead of sleeping through it and looking once at the end."""
    deadline = time.monotonic() + seconds
    while True:
        if not predicate():
            raise AssertionError(f"no longer true within {seconds:g} s: {what}")
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(interval)


async def settled_async(
    measure: Callable[[], T], quiet: float, timeout: float, what: str, *, interval: float = 0.02
) -> T:
    """`measure()` once it stopped changing for `quiet` s (a reply of several messages has all
    arrived); fails naming `what` if it still changes at `timeout`."""
    deadline = time.monotonic() + timeout
    last = measure()
    changed = time.monotonic()
    while True:
        await asyncio.sleep(interval)
        now = measure()
        if now != last:
            last, changed = now, time.monotonic()
        elif time.monotonic() - changed >= quiet:
            return now
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} still changing after {timeout:g} s: {now!r}")
