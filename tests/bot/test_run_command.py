"""`learncity run`: serves the web chat on its own; Ctrl-C and even `kill -9` of it leave no
process behind; a port already in use stops start-up with a message naming it. (SIGTERM is
checked at the end of tests/faults/test_process_faults.py, on the stack those tests ran.)"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from bot.stack import free_port
from tests.conftest import SHARED_MODELS_DIR


@dataclass
class RunningCommand:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def children(self) -> list[psutil.Process]:
        """Every process under `learncity run`; none once it has exited."""
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def run_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """`learncity run` on free ports, a temp data dir and the shared trained model."""
    env = dict(os.environ)
    env.update(
        {
            "LEARNCITY_DATA_DIR": str(tmp_path),
            "LEARNCITY_MODELS_DIR": str(SHARED_MODELS_DIR),
            "GATEWAY_PORT": str(free_port()),
            "RASA_URL": f"http://127.0.0.1:{free_port()}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}/webhook",
            **extra,
        }
    )
    for name in ("DATABASE_URL", "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN"):
        env.pop(name, None)  # the embedded defaults: SQLite in the data dir, made-up secrets
    return env


def start_run(tmp_path: Path, **extra: str) -> RunningCommand:
    """Start `learncity run --no-console` and wait until the gateway says it is ready."""
    env = run_environment(tmp_path, **extra)
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--no-console"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = RunningCommand(process, f"http://127.0.0.1:{env['GATEWAY_PORT']}", log)
    deadline = time.monotonic() + 1200  # training (inputs changed) and loading took minutes here
    while True:
        if process.poll() is not None:
            pytest.fail(f"learncity run exited with {process.returncode}:\n{running.output()}")
        try:
            if httpx.get(f"{running.base}/health/ready", timeout=5).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"learncity run was not ready in 1200 s:\n{running.output()}")
        time.sleep(1)


@pytest.fixture
def stopped_at_the_end() -> Iterator[list[RunningCommand]]:
    """Whatever a test started is killed, group and all, even when the test failed."""
    started: list[RunningCommand] = []
    yield started
    for running in started:
        leftovers = running.children() if running.process.poll() is None else []
        running.process.kill()
        for child in leftovers:
            child.kill()


def test_run_serves_the_web_chat_and_ctrl_c_stops_everything(
    tmp_path: Path, stopped_at_the_end: list[RunningCommand]
) -> None:
    running = start_run(tmp_path)
    stopped_at_the_end.append(running)
    children = running.children()
    assert len(children) >= 2, "Rasa and the action server run as their own processes"
    health = httpx.get(f"{running.base}/health", timeout=10).json()
    assert health == {"gateway": "up", "rasa": "up", "actions": "up"}
    answer = httpx.post(
        f"{running.base}/api/chat", json={"text": "我想学Python"}, timeout=60
    ).json()
    cards = [card for reply in answer["replies"] for card in reply["cards"]]
    assert any("python" in card["name"].lower() for card in cards)
    assert (tmp_path / "learncity.db").exists()
    running.process.send_signal(signal.SIGINT)
    exit_code = running.process.wait(timeout=60)
    assert exit_code == 0, running.output()
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"still running after Ctrl-C: {[p.pid for p in alive]}"


def test_kill_9_of_run_takes_every_child_with_it(
    tmp_path: Path, stopped_at_the_end: list[RunningCommand]
) -> None:
    running = start_run(tmp_path)
    stopped_at_the_end.append(running)
    children = running.children()
    assert len(children) >= 2
    ports = {
        connection.laddr.port
        for child in children
        for connection in child.net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    }
    assert len(ports) >= 2, "Rasa and the action server listen"
    running.process.kill()
    running.process.wait(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert [p.pid for p in alive] == [], "orphans left behind after kill -9 of learncity run"
    for port in ports:  # and nothing holds the ports a later `learncity run` needs
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_named_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as stranger:  # someone else's server on the Rasa port
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        taken = stranger.getsockname()[1]
        env = run_environment(tmp_path, RASA_URL=f"http://127.0.0.1:{taken}")
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "run", "--no-console"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert f"port {taken} (Rasa server 1) is already in use" in result.stderr, result.stderr
    assert time.monotonic() - started < 60, "refused before preparing or starting anything"
    assert not (tmp_path / "logs" / "rasa-server.log").exists()


def test_sigterm_while_starting_stops_what_was_started_and_exits_zero(tmp_path: Path) -> None:
    env = run_environment(tmp_path)
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--no-console"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 1200
        while "started Rasa server" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "Rasa was never started"
            time.sleep(0.2)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 2, "the action server and Rasa are starting"
        process.send_signal(signal.SIGTERM)  # Rasa is still loading its model
        exit_code = _pressing_ctrl_c_until_exit(process, timeout=90)
    finally:
        process.kill()
    assert exit_code == 0, log.read_text(errors="replace")
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert [p.pid for p in alive] == [], "children left behind after SIGTERM during start-up"


def _pressing_ctrl_c_until_exit(process: subprocess.Popen[bytes], timeout: float) -> int:
    """An impatient operator: Ctrl-C every 50 ms while it stops; stopping must still finish
    cleanly (exit 0), however late a signal lands."""
    deadline = time.monotonic() + timeout
    while (code := process.poll()) is None:
        assert time.monotonic() < deadline, f"still running {timeout:.0f} s after SIGTERM"
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        time.sleep(0.05)
    return code
