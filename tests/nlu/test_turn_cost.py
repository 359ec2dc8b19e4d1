"""A turn costs the same at the 300th message of a conversation as at the first.

Through the real stack (gateway conversation, Rasa server, action server, tracker store on
SQLite): one citizen sends the same ten messages over and over in one session, and the CPU
time the stack spends on turns 281-300 is compared with turns 1-20 (CPU, not wall-clock, time:
on a shared machine other work delays a turn without making it cost more). Before the policies
got a bounded history and tracker copies stopped replaying every event, a turn grew from 29 to
77 ms (issue 9, item 14). The absolute numbers belong to `bench/turn_cost_bench.py`; this
checks the growth only.
"""

from __future__ import annotations

import time

import pytest

from bench.turn_cost_bench import (
    MESSAGES,
    TURNS,
    WINDOW,
    stack_processes,
    summarise,
    time_one_conversation,
)

MAX_GROWTH = 1.5


@pytest.mark.slow
async def test_turn_cost_stays_flat_over_a_300_turn_conversation(assistant) -> None:  # type: ignore[no-untyped-def]
    sender = f"web:long-{time.monotonic_ns()}"
    # First turns load the search model and index: not what a long conversation costs.
    await time_one_conversation(assistant.talk, f"{sender}-warm-up", len(MESSAGES))
    processes = stack_processes(assistant.supervisor)
    measured = await time_one_conversation(assistant.talk, sender, TURNS, processes)
    wall, cpu = summarise(measured["wall_ms"]), summarise(measured["cpu_ms"])
    cpu_per_window = [
        round(sum(measured["cpu_ms"][start : start + WINDOW]) / WINDOW, 1)
        for start in range(0, TURNS, WINDOW)
    ]
    print(
        f"\nturns 1-{WINDOW} vs {TURNS - WINDOW + 1}-{TURNS}: wall median "
        f"{wall['first_median_ms']:.1f} -> {wall['last_median_ms']:.1f} ms, stack CPU mean "
        f"{cpu['first_mean_ms']:.1f} -> {cpu['last_mean_ms']:.1f} ms "
        f"(growth {cpu['growth_of_mean']:.2f}); CPU mean per {WINDOW} turns {cpu_per_window}"
    )
    assert cpu["growth_of_mean"] < MAX_GROWTH, cpu
