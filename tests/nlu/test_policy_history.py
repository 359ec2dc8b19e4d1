"""The policies predict the same next actions from the recent window as from the whole session.

A long real conversation (tests/nlu/long_conversation.py) goes through the running stack;
its stored events are then replayed in the Rasa venv, and before
every action the model predicts the next action with Rasa's own history and with
`nlu.policy_history`'s window (tests/nlu/policy_history_checks.py). Every prediction must be
the same: action, policy, probabilities, the events the policy adds, and the states each
policy (RulePolicy, MemoizationPolicy) reads.
"""

from __future__ import annotations

from pathlib import Path

from nlu.training import model_path
from tests.nlu.long_conversation import long_conversation_events
from tests.nlu.rasa_venv import run_in_rasa_venv

CHECKS = Path(__file__).with_name("policy_history_checks.py")


async def test_bounded_history_predicts_what_the_whole_history_predicts(assistant) -> None:  # type: ignore[no-untyped-def]
    events = await long_conversation_events(assistant)
    settings = assistant.settings
    seen = run_in_rasa_venv(
        CHECKS,
        str(model_path(settings)),
        stdin=events,
        python=settings.rasa_venv / "bin" / "python",
    )
    print(
        f"\n{seen['events']} events, {seen['points']} predictions, {seen['windowed']} from a "
        f"window; per prediction over the last 50: Rasa's {seen['rasa_ms']:.1f} ms, "
        f"bounded {seen['bounded_ms']:.1f} ms"
    )
    assert seen["policies"] == ["MemoizationPolicy", "RulePolicy"]
    assert seen["points"] > 150
    assert seen["windowed"] > seen["points"] // 2  # the window was really used
    for index, (rasa_own, bounded) in enumerate(zip(seen["rasa"], seen["bounded"], strict=True)):
        assert bounded == rasa_own, f"prediction {index} differs"
    actions = {prediction["action"] for prediction in seen["rasa"]}
    assert {"learning_need_form", "action_confirm_forget_me", "action_search_nearby"} <= actions
