"""Copy a conversation's tracker by its state instead of by replaying every event.

Runs inside the Rasa server (Python 3.10 venv). Rasa 3.6's `DialogueStateTracker.copy()`
builds an empty tracker and replays every event of the conversation into it. The server
copies the tracker before each action it runs (to discard the policy's events if the action
is rejected), and the tracker store copies it on every read and write, so each turn of a
long conversation cost more than the one before (issue 9, item 14).

After `install()`, `copy()` gives the new tracker what the replay would have left in it:
the same events (the same objects, as the replay shares them too), copies of the slots and of
the active loop, the latest message, action and bot utterance, the follow-up action and the
paused flag, and nothing the replay would not set (no model or assistant id). Tested against
Rasa's own `copy()` after every event of a long real conversation
(tests/nlu/test_tracker_copy.py).
"""

from __future__ import annotations

from nlu.rasa_version import require_tested_rasa

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

import copy as _copy_module  # noqa: E402

from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

_rasa_copy = DialogueStateTracker.copy


def copy_by_state(self: DialogueStateTracker) -> DialogueStateTracker:
    """A duplicate of `self` equal to the one Rasa's replaying `copy()` builds."""
    duplicate = self.init_copy()
    duplicate.events = self._create_events(list(self.events))
    for name, slot in self.slots.items():
        duplicate.slots[name] = _copy_module.copy(slot)
    duplicate._paused = self._paused
    duplicate.followup_action = self.followup_action
    duplicate.latest_action = _copy_module.copy(self.latest_action)
    duplicate.latest_message = self.latest_message
    duplicate.latest_bot_utterance = self.latest_bot_utterance
    duplicate.active_loop = _copy_module.copy(self.active_loop)
    return duplicate


def install() -> None:
    """Make `DialogueStateTracker.copy()` copy the state instead of replaying the events."""
    if DialogueStateTracker.copy is copy_by_state:
        return
    DialogueStateTracker.copy = copy_by_state  # type: ignore[method-assign]
