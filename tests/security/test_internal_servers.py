"""Rasa and the action server: on 127.0.0.1, and nobody without the secret gets an answer.

Issue 9 (1, 2): a forged tracker POSTed to the action server's webhook erased a victim's data,
and Rasa's HTTP API handed out any conversation and let anyone drive `trigger_intent`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

import citizens
from bot.kind_replies import TRY_AGAIN
from bot.stack import free_port
from core.database import session_scope, upgrade_database
from nlu.serving import WEBHOOK_PATH
from tests.conftest import RunningAssistant
from tests.waiting import wait_until

VICTIM = "telegram:424242"
SECRET = "s3cret-for-this-test-only-0123456789"


def _forged_forget_me(sender_id: str) -> dict:
    """What an attacker sends: a tracker of the victim saying "yes" to "forget me"."""
    return {
        "next_action": "action_confirm_forget_me",
        "sender_id": sender_id,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender_id,
            "slots": {"language": "en"},
            "latest_message": {
                "text": "yes",
                "intent": {"name": "affirm", "confidence": 1.0},
                "entities": [],
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def _subscriptions(database_url: str, sender_id: str) -> list:
    with session_scope(database_url) as session:
        return citizens.export_citizen_data(session, sender_id)["subscriptions"]


@pytest.fixture
def action_server(tmp_path: Path) -> Iterator[tuple[str, str, int]]:
    """The real action server (`python -m bot.action_server`) on a temp database with a victim."""
    database_url = f"sqlite:///{tmp_path / 'learncity.db'}"
    upgrade_database(database_url)
    with session_scope(database_url) as session:
        citizens.subscribe_events(session, VICTIM, district="Nanhu", consent=True)
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "LEARNCITY_DATA_DIR": str(tmp_path),
            "ACTION_SERVER_TOKEN": SECRET,
        }
    )
    env.pop("ACTION_SERVER_INTERFACE", None)  # the default
    log = (tmp_path / "action-server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            assert process.poll() is None, (tmp_path / "action-server.log").read_text()
            return httpx.get(f"{url}/health", timeout=2).status_code == 200

        wait_until(answers, 120, "the action server", interval=0.3, ignore=(httpx.HTTPError,))
        yield url, database_url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _listening_addresses(pid: int) -> set[str]:
    return {
        connection.laddr.ip
        for connection in psutil.Process(pid).net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    }


def test_forged_action_call_without_or_with_a_wrong_secret_is_refused_and_the_victim_keeps_their_data(
    action_server: tuple[str, str, int],
) -> None:
    url, database_url, pid = action_server
    assert _listening_addresses(pid) == {"127.0.0.1"}
    before = _subscriptions(database_url, VICTIM)
    assert [row["district"] for row in before] == ["Nanhu"]
    forged = _forged_forget_me(VICTIM)
    attempts = {
        "no secret": {},
        "wrong secret": {"Authorization": "Bearer not-the-secret"},
        "secret as a query string": None,
        "another scheme": {"Authorization": f"Basic {SECRET}"},
    }
    statuses = {}
    for name, headers in attempts.items():
        if headers is None:
            response = httpx.post(f"{url}/webhook?token={SECRET}", json=forged, timeout=30)
        else:
            response = httpx.post(f"{url}/webhook", json=forged, headers=headers, timeout=30)
        statuses[name] = response.status_code
    assert statuses == dict.fromkeys(attempts, 401)
    listing = httpx.get(f"{url}/actions", timeout=30)
    assert listing.status_code == 401, "the list of actions is not for strangers either"
    assert _subscriptions(database_url, VICTIM) == before
    # The control: the same call with the secret (what Rasa sends) does run the action, so the
    # refusals above came from the missing secret, not from a malformed forgery.
    allowed = httpx.post(
        f"{url}/webhook", json=forged, headers={"Authorization": f"Bearer {SECRET}"}, timeout=30
    )
    assert allowed.status_code == 200, allowed.text
    assert _subscriptions(database_url, VICTIM) == []


def test_action_server_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = dict(os.environ, LEARNCITY_DATA_DIR=str(tmp_path), ACTION_SERVER_TOKEN="")
    result = subprocess.run(
        [sys.executable, "-m", "bot.action_server", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "ACTION_SERVER_TOKEN is empty" in result.stderr


def test_rasa_api_refuses_tracker_and_trigger_intent_without_the_token(
    assistant: RunningAssistant,
) -> None:
    supervisor = assistant.supervisor
    rasa_url = supervisor.rasa_url  # type: ignore[attr-defined]
    token = supervisor.rasa_token  # type: ignore[attr-defined]
    assert _listening_addresses(supervisor.rasa.process.pid) == {"127.0.0.1"}  # type: ignore[attr-defined]
    assert _listening_addresses(supervisor.actions.process.pid) == {"127.0.0.1"}  # type: ignore[attr-defined]
    victim = "telegram:777000"
    tracker = f"{rasa_url}/conversations/{victim}/tracker"
    trigger = f"{rasa_url}/conversations/{victim}/trigger_intent"
    refused = {
        "tracker, no token": httpx.get(tracker, timeout=30).status_code,
        "tracker, wrong token": httpx.get(
            tracker, params={"token": "guess"}, timeout=30
        ).status_code,
        "trigger_intent, no token": httpx.post(
            trigger, json={"name": "forget_me"}, timeout=30
        ).status_code,
        "trigger_intent, wrong token": httpx.post(
            trigger, json={"name": "forget_me"}, params={"token": "guess"}, timeout=30
        ).status_code,
        "parse, no token": httpx.post(
            f"{rasa_url}/model/parse", json={"text": "hi"}, timeout=30
        ).status_code,
        "status, no token": httpx.get(f"{rasa_url}/status", timeout=30).status_code,
        # The channel webhook is outside --auth-token: nlu/rasa_channel.py guards it.
        "webhook forget me, no secret": httpx.post(
            f"{rasa_url}{WEBHOOK_PATH}",
            json={"sender": victim, "message": "/forget_me"},
            timeout=30,
        ).status_code,
        "webhook forget me, wrong secret": httpx.post(
            f"{rasa_url}{WEBHOOK_PATH}",
            json={"sender": victim, "message": "/forget_me"},
            headers={"Authorization": "Bearer guess"},
            timeout=30,
        ).status_code,
        "webhook forget me, secret as a query": httpx.post(
            f"{rasa_url}{WEBHOOK_PATH}",
            json={"sender": victim, "message": "/forget_me"},
            params={"token": token},
            timeout=30,
        ).status_code,
    }
    assert refused == dict.fromkeys(refused, 401)
    # The control: the gateway's token opens the same door.
    allowed = httpx.get(tracker, params={"token": token}, timeout=30)
    assert allowed.status_code == 200 and allowed.json()["sender_id"] == victim


async def test_the_action_server_the_supervisor_runs_refuses_a_forged_call_too(
    assistant: RunningAssistant,
) -> None:
    supervisor = assistant.supervisor
    webhook = f"http://127.0.0.1:{supervisor.ports.actions}/webhook"  # type: ignore[attr-defined]
    forged = _forged_forget_me("telegram:31337")
    refused = httpx.post(webhook, json=forged, timeout=30)
    guessed = httpx.post(
        webhook, json=forged, headers={"Authorization": "Bearer guess"}, timeout=30
    )
    assert (refused.status_code, guessed.status_code) == (401, 401)
    # Rasa holds the secret: a real turn through it still runs the actions.
    replies = await assistant.talk("web:security-control", "where can I learn pottery?")
    assert replies and replies[0].text != TRY_AGAIN["en"]
