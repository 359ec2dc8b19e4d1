"""A tracker copied by its state equals the one Rasa's `copy()` builds by replaying events.

A long real conversation (tests/nlu/long_conversation.py) goes through the running stack;
its stored events are then replayed in the Rasa venv, and after every event the tracker is
copied both ways (tests/nlu/tracker_copy_checks.py): every attribute, the tracker's state
as Rasa's API shows it and the states the policies read must be the same.
"""

from __future__ import annotations

from pathlib import Path

from nlu.training import DOMAIN_DIR
from tests.nlu.long_conversation import long_conversation_events
from tests.nlu.rasa_venv import run_in_rasa_venv

CHECKS = Path(__file__).with_name("tracker_copy_checks.py")


async def test_copy_by_state_equals_rasas_replayed_copy(assistant) -> None:  # type: ignore[no-untyped-def]
    events = await long_conversation_events(assistant, cycles=4)
    settings = assistant.settings
    seen = run_in_rasa_venv(
        CHECKS, str(DOMAIN_DIR), stdin=events, python=settings.rasa_venv / "bin" / "python"
    )
    print(
        f"\n{seen['events']} events; per copy over the last 50: Rasa's replay "
        f"{seen['rasa_ms']:.2f} ms, by state {seen['by_state_ms']:.2f} ms"
    )
    assert seen["events"] > 300
    assert seen["differences"] == []
