"""Give Rasa's policies the recent part of a long conversation instead of all of it.

Runs inside the Rasa server (Python 3.10 venv). To predict the next action, each policy of
Rasa 3.6 turns the tracker into one state per action taken, replaying every event of the
session, and then looks only at the last few: MemoizationPolicy at its `max_history` (4 in
config.yml), RulePolicy at as many as its longest rule has. On a long conversation that replay
was half of the Rasa server's CPU per message, and a turn grew from 29 to 77 ms over 300
messages (issue 9, item 14).

`install()` makes a policy build those states from the recent events only: a window that
starts at an `action_listen` with no form active, a few states before the ones the policy
reads, with the values the slots had there set first. The states it reads are the same as
Rasa's own (tests/nlu/test_policy_history.py compares predictions turn by turn over a long
conversation). Whenever the window cannot be shown to be equivalent (an event that rewinds
history before it, a form active at its start, too few states in it, a policy that reads the
whole history), the policy gets the whole session as before.
"""

from __future__ import annotations

from nlu.rasa_version import require_tested_rasa

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

from contextvars import ContextVar  # noqa: E402
from typing import Any  # noqa: E402

from rasa.core.policies.policy import Policy  # noqa: E402
from rasa.core.policies.rule_policy import RulePolicy  # noqa: E402
from rasa.shared.core.constants import ACTION_LISTEN_NAME  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

# States computed in the window and then dropped: the first ones lack what came before the
# window (the previous action, the last non-rule turn), so only later ones are exact.
WARM_UP_STATES = 3
# Below this many events a conversation is cheap enough to replay whole.
MIN_EVENTS = 60

_STATES_NEEDED: ContextVar[int | None] = ContextVar("learncity_states_needed", default=None)
_rasa_prediction_states = Policy._prediction_states
_rasa_past_states = DialogueStateTracker.past_states


def states_needed(policy: Any) -> int | None:
    """How many of the latest states `policy` reads; None when it may read them all."""
    known = policy.__dict__.get("_learncity_states_needed", False)
    if known is not False:
        return known
    needed: int | None
    if isinstance(policy, RulePolicy):
        rule_keys = [
            key for table in policy.lookup.values() if isinstance(table, dict) for key in table
        ]
        needed = max((len(RulePolicy._rule_key_to_state(key)) for key in rule_keys), default=0)
        needed = needed or None
    else:
        needed = getattr(getattr(policy, "featurizer", None), "max_history", None)
    policy.__dict__["_learncity_states_needed"] = needed
    return needed


def _bounded_prediction_states(
    self: Policy, tracker: DialogueStateTracker, domain: Any, *args: Any, **kwargs: Any
) -> Any:
    token = _STATES_NEEDED.set(states_needed(self))
    try:
        return _rasa_prediction_states(self, tracker, domain, *args, **kwargs)
    finally:
        _STATES_NEEDED.reset(token)


def _bounded_past_states(
    self: DialogueStateTracker,
    domain: Any,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    needed = _STATES_NEEDED.get()
    if needed is not None and not self.is_rule_tracker:
        window = recent_window(self, domain, needed + WARM_UP_STATES, ignore_rule_only_turns)
        if window is not None:
            states = _rasa_past_states(
                window, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data
            )
            if len(states) >= needed + WARM_UP_STATES:
                return states[WARM_UP_STATES:]
    return _rasa_past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)


def recent_window(
    tracker: DialogueStateTracker, domain: Any, states: int, ignore_rule_only_turns: bool
) -> DialogueStateTracker | None:
    """A tracker of the latest events holding at least `states` states, or None.

    It starts at an `action_listen` followed by a user message, with no form active, and
    first sets the slots that shape the states to the values they had there."""
    if len(tracker.events) < MIN_EVENTS:
        return None
    events = list(tracker.events)
    start = _window_start(events, states, ignore_rule_only_turns)
    if start is None:
        return None
    featurized = {slot.name for slot in domain.slots if slot.influence_conversation}
    slots = _slots_before(events, start, featurized)
    if slots is None:
        return None
    prefix = [SlotSet(name, value) for name, value in slots.items()]
    return DialogueStateTracker.from_events(
        tracker.sender_id, prefix + events[start:], domain.slots
    )


# Exact types, not isinstance: Rasa's events are ABCs, and isinstance on them is slow enough
# to matter when a long history is scanned on every prediction.
_SESSION_BOUNDARIES = {SessionStarted, Restarted}
_REWINDS = {ActionReverted, UserUtteranceReverted}


def _window_start(events: list[Any], states: int, ignore_rule_only_turns: bool) -> int | None:
    counted = 0
    for index in range(len(events) - 1, 0, -1):
        event = events[index]
        kind = type(event)
        if kind in _SESSION_BOUNDARIES or kind in _REWINDS:
            return None  # the window would reach the session start, or history is rewound
        if kind is not ActionExecuted:
            continue
        if not (ignore_rule_only_turns and event.hide_rule_turn):
            counted += 1
        if (
            counted > states
            and event.action_name == ACTION_LISTEN_NAME
            and _next_is_user_message(events, index)
            and _no_loop_active_before(events, index)
        ):
            return index
    return None


def _next_is_user_message(events: list[Any], index: int) -> bool:
    for event in events[index + 1 :]:
        if type(event) is UserUttered:
            return True
        if type(event) is ActionExecuted:
            return False
    return False


def _no_loop_active_before(events: list[Any], index: int) -> bool:
    for position in range(index - 1, -1, -1):
        event = events[position]
        if type(event) is ActiveLoop:
            return event.name is None
        if type(event) in _SESSION_BOUNDARIES:
            return True
    return True


def _slots_before(events: list[Any], start: int, wanted: set[str]) -> dict[str, Any] | None:
    """The values of the `wanted` slots before `events[start]`, or None if that is unclear."""
    values: dict[str, Any] = {}
    for position in range(start - 1, -1, -1):
        if len(values) == len(wanted):
            break
        event = events[position]
        kind = type(event)
        if kind in _SESSION_BOUNDARIES or kind is AllSlotsReset:
            break
        if kind in _REWINDS:
            return None  # a rewind may undo slots set before it: replay everything instead
        if kind is SlotSet and event.key in wanted and event.key not in values:
            values[event.key] = event.value
    return values


def install() -> None:
    """Make every policy build its states from the recent part of a long conversation."""
    if getattr(Policy._prediction_states, "bounded", False):
        return
    _bounded_prediction_states.bounded = True  # type: ignore[attr-defined]
    Policy._prediction_states = _bounded_prediction_states  # type: ignore[method-assign]
    DialogueStateTracker.past_states = _bounded_past_states  # type: ignore[method-assign]
