"""Flood control slows one flooding citizen and leaves the others alone."""

from __future__ import annotations

from bot.flood import FloodControl


def test_twenty_messages_in_a_second_get_one_warning_and_others_are_unaffected() -> None:
    flood = FloodControl(rate=5, burst=10)
    verdicts = [flood.check("telegram:flooder", now=100 + i * 0.05) for i in range(20)]
    assert verdicts[:10] == ["allow"] * 10
    assert verdicts.count("warn") == 1
    first_refusal = next(i for i, verdict in enumerate(verdicts) if verdict != "allow")
    assert verdicts[first_refusal] == "warn"
    assert verdicts[-1] == "drop"
    assert verdicts.count("allow") <= 10 + 5  # burst plus what refilled within the second
    assert flood.check("telegram:calm", now=101) == "allow"


def test_a_pause_refills_the_bucket() -> None:
    flood = FloodControl(rate=5, burst=3)
    for i in range(5):
        flood.check("web:a", now=10 + i * 0.01)
    assert flood.check("web:a", now=20) == "allow"
