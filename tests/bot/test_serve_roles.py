"""`learncity serve gateway|rasa|actions`: each role, as a real process, starts and answers its
health check, refuses to start without the secret it shares with the others, and stops on
SIGTERM with exit status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.kind_replies import SLOW_DOWN, kind_text
from bot.stack import free_port
from bot.supervisor import InvalidSecretError, with_internal_secrets
from core.settings import REPOSITORY_ROOT, Settings
from nlu.training import ensure_model
from tests.conftest import SHARED_MODELS_DIR
from tests.fakes.rasa_rest import FakeRasa
from tests.services import REDIS_URL
from tests.waiting import wait_until

_OWN_SETTINGS = ("LEARNCITY_", "RASA_", "ACTION_SERVER_", "GATEWAY_", "DATABASE_URL", "REDIS_")
_OWN_SETTINGS += ("TELEGRAM_", "WECHAT_")


def _environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """This machine's environment without any learncity setting, plus the test's own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(_OWN_SETTINGS)}
    env["LEARNCITY_DATA_DIR"] = str(tmp_path)
    env["LEARNCITY_MODELS_DIR"] = str(SHARED_MODELS_DIR)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'role.db'}"
    env.update(settings)
    return env


def _serve(role: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", role],
            cwd=REPOSITORY_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Every role process a test starts; killed (group and all) if the test left it running."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until(
    answers: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    def answered() -> bool:
        assert process.poll() is None, f"the role exited ({process.returncode}):\n{log.read_text()}"
        return answers()

    wait_until(
        answered,
        timeout,
        f"the role started with log {log.name} to answer",
        interval=0.5,
        ignore=(httpx.HTTPError,),
        details=lambda: "\n" + log.read_text(),
    )


def _stop(process: subprocess.Popen[bytes], log: Path) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the role ignored SIGTERM for 60 s:\n{log.read_text()}") from None


@pytest.mark.parametrize(
    ("role", "secret"),
    [
        ("gateway", "RASA_AUTH_TOKEN"),
        ("rasa", "ACTION_SERVER_TOKEN"),
        ("actions", "ACTION_SERVER_TOKEN"),
    ],
)
def test_a_role_without_its_secret_refuses_to_start_naming_it(
    role: str, secret: str, tmp_path: Path
) -> None:
    env = _environment(
        tmp_path, RASA_AUTH_TOKEN="rasa-secret-1", ACTION_SERVER_TOKEN="action-secret-1"
    )
    env[secret] = ""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", role],
        cwd=REPOSITORY_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert secret in result.stderr
    assert "rasa-secret-1" not in result.stderr + result.stdout


def test_serve_gateway_answers_its_health_check_and_stops_on_sigterm(
    tmp_path: Path, started: list[subprocess.Popen[bytes]], refused_port: int
) -> None:
    port = free_port()
    env = _environment(
        tmp_path,
        RASA_AUTH_TOKEN="rasa-secret-2",
        GATEWAY_PORT=str(port),
        RASA_URL=f"http://127.0.0.1:{refused_port}",  # nobody there: the gateway still lives
    )
    log = tmp_path / "gateway.log"
    gateway = _serve("gateway", env, log)
    started.append(gateway)
    live = f"http://127.0.0.1:{port}/health/live"
    _wait_until(lambda: httpx.get(live, timeout=2).status_code == 200, gateway, log, 120)
    assert httpx.get(live, timeout=5).json() == {"gateway": "up"}
    ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5)
    assert ready.status_code == 503  # Rasa is not there, and the gateway says so
    assert _stop(gateway, log) == 0


def test_serve_actions_answers_only_with_its_secret_and_stops_on_sigterm(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    token = "action-secret-3"
    env = _environment(
        tmp_path,
        ACTION_SERVER_TOKEN=token,
        ACTION_SERVER_URL=f"http://127.0.0.1:{port}/webhook",
    )
    log = tmp_path / "actions.log"
    actions = _serve("actions", env, log)
    started.append(actions)
    webhook = f"http://127.0.0.1:{port}/webhook"
    probe = {
        "next_action": "action_learncity_health_probe",
        "sender_id": "test:roles",
        "tracker": {"sender_id": "test:roles", "slots": {}, "latest_message": {}, "events": []},
        "domain": {},
        "version": "3.6.21",
    }

    def answers_with_secret() -> bool:
        response = httpx.post(
            webhook, json=probe, headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        return response.status_code == 200

    _wait_until(answers_with_secret, actions, log, 240)
    refused = httpx.post(webhook, json=probe, timeout=5)
    assert refused.status_code == 401
    assert _stop(actions, log) == 0


def test_serve_rasa_answers_status_with_its_token_and_stops_on_sigterm(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    env = _environment(tmp_path)
    # Trained first when the cache has no model for the current inputs (once, under a lock).
    ensure_model(Settings(learncity_data_dir=tmp_path, learncity_models_dir=SHARED_MODELS_DIR))
    port = free_port()
    token = "rasa-secret-4"
    env.update(
        RASA_AUTH_TOKEN=token,
        ACTION_SERVER_TOKEN="action-secret-4",
        RASA_URL=f"http://127.0.0.1:{port}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}/webhook",
    )
    log = tmp_path / "rasa-role.log"
    rasa = _serve("rasa", env, log)
    started.append(rasa)
    status = f"http://127.0.0.1:{port}/status"
    # Loading the model took up to 165 s on a shared, busy two-core machine.
    _wait_until(
        lambda: httpx.get(status, params={"token": token}, timeout=5).status_code == 200,
        rasa,
        log,
        420,
    )
    assert httpx.get(status, timeout=5).status_code == 401
    assert _stop(rasa, log) == 0
    assert (
        subprocess.run(["pgrep", "-f", "--", f"--port {port}"], capture_output=True).stdout == b""
    )


def test_two_gateway_processes_on_one_redis_count_a_flooding_citizen_together(
    tmp_path: Path, started: list[subprocess.Popen[bytes]], redis_prefix: str
) -> None:
    ports = [free_port(), free_port()]
    with FakeRasa() as rasa:
        for number, port in enumerate(ports):
            env = _environment(
                tmp_path,
                RASA_AUTH_TOKEN="rasa-secret-5",
                GATEWAY_PORT=str(port),
                RASA_URL=rasa.url,
                REDIS_URL=REDIS_URL,
                REDIS_KEY_PREFIX=redis_prefix,
                FLOOD_BURST="3",
                FLOOD_MESSAGES_PER_SECOND="0.01",  # nothing refills during the test
            )
            log = tmp_path / f"gateway-{number}.log"
            gateway = _serve("gateway", env, log)
            started.append(gateway)
            live = f"http://127.0.0.1:{port}/health/live"
            _wait_until(
                lambda live=live: httpx.get(live, timeout=2).status_code == 200,
                gateway,
                log,
                120,
            )
        answers = []
        for turn in range(5):  # alternating between the two gateway processes
            response = httpx.post(
                f"http://127.0.0.1:{ports[turn % 2]}/api/chat",
                json={"session_id": "flooder-1", "text": "hello", "language": "en"},
                timeout=30,
            )
            answers.append([reply.get("text") for reply in response.json()["replies"]])
        codes = [_stop(gateway, tmp_path / "gateway.log") for gateway in started]
        answered = rasa.messages_from("web:flooder-1")
    assert answers[:3] == [["you said: hello"]] * 3
    assert answers[3] == [kind_text(SLOW_DOWN, "hello", "en")]
    assert answers[4] == []
    assert answered == ["hello"] * 3
    assert codes == [0, 0]


@pytest.mark.parametrize(
    "unusable", ["pässwort-0123456789", "two words", "read-from-a-file\n"], ids=repr
)
def test_a_secret_http_cannot_carry_is_refused_at_start_naming_it(
    unusable: str, tmp_path: Path
) -> None:
    """A non-ASCII ACTION_SERVER_TOKEN made every health probe raise, and one ending in a line
    break made every probe fail, so `run` waited its whole 400 s start-up budget."""
    env = _environment(tmp_path, RASA_AUTH_TOKEN="rasa-secret-1", ACTION_SERVER_TOKEN=unusable)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "actions"],
        cwd=REPOSITORY_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert "ACTION_SERVER_TOKEN must be printable ASCII without spaces" in result.stderr
    assert unusable.strip() not in result.stderr
    with pytest.raises(InvalidSecretError, match="ACTION_SERVER_TOKEN"):  # `learncity run`
        with_internal_secrets(Settings(action_server_token=SecretStr(unusable)))
    assert with_internal_secrets(Settings(action_server_token=SecretStr("-starts-with-a-dash_0")))
