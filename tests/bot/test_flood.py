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


def test_a_citizen_who_keeps_flooding_is_reminded_once_per_refill_and_never_more() -> None:
    flood = FloodControl(rate=2, burst=4)  # an empty bucket fills in 2 s
    # 20 messages a second for 10 s: 200 messages, far faster than the 2 a second allowed.
    verdicts = [(flood.check("web:flooder", now=i * 0.05), i * 0.05) for i in range(200)]
    notices = [(verdict, at) for verdict, at in verdicts if verdict in ("warn", "remind")]
    assert notices[0][0] == "warn"
    reminders = [at for verdict, at in notices if verdict == "remind"]
    # Never silent for longer than a refill after the warning, never two notices within one.
    assert len(reminders) == 4  # at 2.x, 4.x, 6.x and 8.x s after the warning near 0.2 s
    times = [at for _, at in notices]
    assert all(later - earlier >= 2.0 for earlier, later in zip(times, times[1:], strict=False))
    assert 10.0 - times[-1] < 2.0 + 0.05
    # The flood itself is still held to the rate: replies never amplify it.
    allowed = sum(verdict == "allow" for verdict, _ in verdicts)
    assert allowed <= 4 + 2 * 10


def test_a_calm_citizen_after_a_flood_gets_the_full_warning_again() -> None:
    flood = FloodControl(rate=5, burst=2)
    first = [flood.check("web:a", now=i * 0.01) for i in range(4)]
    again = [flood.check("web:a", now=10 + i * 0.01) for i in range(4)]
    assert first == again == ["allow", "allow", "warn", "drop"]
