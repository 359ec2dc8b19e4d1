"""`learncity run` brings up the web chat on its own, and Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from bot.stack import free_port
from tests.conftest import SHARED_MODELS_DIR


def test_run_serves_the_web_chat_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    gateway_port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "LEARNCITY_DATA_DIR": str(tmp_path),
            "LEARNCITY_MODELS_DIR": str(SHARED_MODELS_DIR),
            "GATEWAY_PORT": str(gateway_port),
            "RASA_URL": f"http://127.0.0.1:{free_port()}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}/webhook",
        }
    )
    env.pop("DATABASE_URL", None)  # the embedded default: SQLite in the data dir
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--no-console"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{gateway_port}"
    try:
        deadline = time.monotonic() + 400
        while True:
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            try:
                if httpx.get(f"{base}/health", timeout=2).json().get("rasa") == "up":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "web chat did not come up"
            time.sleep(1)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 2, "Rasa and the action server run as their own processes"
        answer = httpx.post(f"{base}/api/chat", json={"text": "我想学Python"}, timeout=60).json()
        cards = [card for reply in answer["replies"] for card in reply["cards"]]
        assert any("python" in card["name"].lower() for card in cards)
        assert (tmp_path / "learncity.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        exit_code = process.wait(timeout=60)
        log.close()
    assert exit_code == 0, (tmp_path / "run.log").read_text()
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"still running after Ctrl-C: {[p.pid for p in alive]}"
