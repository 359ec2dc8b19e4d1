"""The web-chat load harness (bench/webchat_load.py) tells a healthy assistant from a gone one.

The harness is how issue 9's load target is checked (200 citizens, no think time, 60 s), so
it must not report green when citizens are failed. Each test runs it for a few seconds in its
own process, with the gateway in another, against a stand-in Rasa that speaks the real
webhook protocol (tests/fakes/rasa_rest.py) or against a port where nothing listens.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.webchat_load import classify, judge_health, memory_summary
from core.settings import REPOSITORY_ROOT

TRY_AGAIN = {"Sorry, I can't answer right now. Please try again in a moment."}
SLOW_DOWN = {"That's a lot of messages at once. Please wait a moment before sending more."}


def _run_harness(*source: str) -> dict:
    command = [
        sys.executable, "-m", "bench.webchat_load", *source, "--rasa-servers", "1",
        "--citizens", "4", "--seconds", "3", "--think-seconds", "0.3", "--idle-seconds", "0.5",
        "--probe-interval", "0.5", "--json", "--no-results",
    ]  # fmt: skip
    finished = subprocess.run(
        command, cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_every_turn_counts_as_answered_when_the_assistant_answers() -> None:
    result = _run_harness("--fake-rasa")

    outcomes = result["outcomes"]
    assert outcomes["answered"] == result["turns"] > 4
    assert [outcomes[k] for k in ("try_again", "silent", "refused", "unanswered")] == [0, 0, 0, 0]
    assert result["citizens_with_a_failed_turn"] == 0
    assert result["answered_turns_per_citizen_min"] >= 1
    assert result["health"]["probes"] >= 3
    assert result["health"]["down"] == 0
    assert result["memory"]["gateway"]["peak_mb"] > 0
    assert result["targets_met"] is True


def test_citizens_told_to_try_again_and_health_down_when_rasa_is_gone(refused_port: int) -> None:
    result = _run_harness("--rasa-url", f"http://127.0.0.1:{refused_port}")  # nobody listens

    outcomes = result["outcomes"]
    assert result["turns"] >= 4  # each citizen at least once (only once, at load average 18)
    assert outcomes["answered"] == 0
    assert outcomes["try_again"] + outcomes["slow_down"] == result["turns"]
    assert result["citizens_never_answered"] == 4
    assert result["health"]["down"] == result["health"]["probes"] >= 3
    assert result["targets_met"] is False


def test_turn_outcomes_from_status_and_body() -> None:
    def reply(text: str) -> dict:
        return {"replies": [{"text": text}]}

    seen = [
        classify(200, reply("Pottery at the Nanhu centre"), TRY_AGAIN, SLOW_DOWN),
        classify(200, reply(next(iter(TRY_AGAIN))), TRY_AGAIN, SLOW_DOWN),
        classify(200, reply(next(iter(SLOW_DOWN))), TRY_AGAIN, SLOW_DOWN),
        classify(200, {"replies": []}, TRY_AGAIN, SLOW_DOWN),
        classify(413, {"error": "too large"}, TRY_AGAIN, SLOW_DOWN),
    ]
    assert seen == ["answered", "try_again", "slow_down", "silent", "refused"]


def test_health_is_down_on_503_or_any_server_down() -> None:
    seen = [
        judge_health(200, {"gateway": "up", "rasa": "up"}),
        judge_health(200, {"gateway": "up", "rasa": "down"}),
        judge_health(503, {"gateway": "up", "rasa": "up", "actions": "down"}),
        judge_health(500, None),
    ]
    assert seen == ["up", "down", "down", "down"]


def test_memory_flat_unless_it_keeps_growing_after_the_warm_up() -> None:
    # The action server loads the embedding model at its first search (~230 MB), then stays.
    warm_up = [{"t": t, "actions": 107.0 + (230 if t >= 20 else 0)} for t in range(60)]
    growing = [{"t": t, "Rasa": 400.0 + 2 * t} for t in range(60)]

    flat = memory_summary("actions", 107.0, warm_up, 337.0)
    leak = memory_summary("Rasa", 395.0, growing, 518.0)

    assert (flat["halfway_mb"], flat["end_mb"], flat["flat"]) == (337.0, 337.0, True)
    assert (leak["halfway_mb"], leak["end_mb"], leak["growth_mb"], leak["flat"]) == (
        460.0,
        518.0,
        58.0,
        False,
    )


def test_a_benchmark_gateway_gets_the_stack_secrets_and_action_server_url(tmp_path) -> None:
    """Without them the gateway's readiness probed port 5055 and said "actions down" forever."""
    from bench.assistant import _gateway_env
    from bot.supervisor import StackPorts, Supervisor
    from core.settings import Settings

    settings = Settings(learncity_data_dir=tmp_path)
    supervisor = Supervisor(
        settings,
        tmp_path / "model.tar.gz",
        f"sqlite:///{tmp_path / 'x.db'}",
        StackPorts(6101, 6202),
    )

    env = _gateway_env(supervisor)

    assert env == {
        "ACTION_SERVER_URL": "http://127.0.0.1:6202/webhook",
        "RASA_AUTH_TOKEN": supervisor.settings.rasa_auth_token.get_secret_value(),
        "ACTION_SERVER_TOKEN": supervisor.settings.action_server_token.get_secret_value(),
    }
    assert len(env["RASA_AUTH_TOKEN"]) >= 32
