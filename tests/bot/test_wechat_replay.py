"""The WeChat replay guard on its own: the five-minute window and the nonce memory's bounds."""

from __future__ import annotations

from bot.channels.wechat_replay import InProcessNonces, ReplayGuard


class _Clock:
    """A clock the test moves forward, instead of sleeping through a five-minute window."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_timestamps_are_fresh_only_within_the_window_either_way() -> None:
    guard = ReplayGuard(window_seconds=300, clock=_Clock(1_000_000.0))
    verdicts = {skew: guard.stale(str(1_000_000 + skew)) for skew in (-301, -300, 0, 300, 301)}
    assert verdicts == {
        -301: "stale timestamp",
        -300: None,
        0: None,
        300: None,
        301: "stale timestamp",
    }
    assert guard.stale("yesterday") == "malformed timestamp"
    assert guard.stale("") == "malformed timestamp"


async def test_a_nonce_is_refused_with_another_body_and_forgotten_after_its_time() -> None:
    clock = _Clock(0.0)
    guard = ReplayGuard(nonces=InProcessNonces(clock=clock), window_seconds=300)
    assert await guard.reused("1700000000", "42", b"<xml>hello</xml>") is None
    assert await guard.reused("1700000000", "42", b"<xml>hello</xml>") is None  # a redelivery
    assert await guard.reused("1700000000", "42", b"<xml>forget me</xml>") == "reused nonce"
    assert await guard.reused("1700000001", "42", b"<xml>forget me</xml>") is None
    assert await guard.reused("1700000000", "", b"<xml/>") == "missing nonce"
    clock.now += 2 * 300 + 2  # by now the timestamp itself is stale, so forgetting is safe
    assert await guard.reused("1700000000", "42", b"<xml>forget me</xml>") is None


async def test_the_nonce_memory_stays_bounded() -> None:
    nonces = InProcessNonces(max_keys=100)
    for number in range(1000):
        assert await nonces.claim(f"t:{number}", "digest", 600)
    assert len(nonces) == 100
