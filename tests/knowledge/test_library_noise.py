"""The action server's log carries no faiss loader chatter ("Could not load library with AVX512
support…"): real action servers, started the way actions/__init__.py documents and the way
`learncity run` does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.stack import free_port
from core.settings import REPOSITORY_ROOT

# rasa-sdk's own entry point, and the one `learncity run` starts (bot/action_server.py).
ENTRY_POINTS = {
    "rasa_sdk": ["-m", "rasa_sdk", "--actions", "actions", "--port"],
    "learncity": ["-m", "bot.action_server", "--port"],
}


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_the_action_server_log_has_no_faiss_loader_lines(entry_point: str, tmp_path: Path) -> None:
    port = free_port()  # below the ephemeral range: the server binds only after loading
    log = tmp_path / "action-server.log"
    env = dict(os.environ, LEARNCITY_DATA_DIR=str(tmp_path / "data"), ACTION_SERVER_TOKEN="t" * 32)
    env.pop("LEARNCITY_LOG_LEVEL", None)
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, *ENTRY_POINTS[entry_point], str(port)],
            cwd=REPOSITORY_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        up = False
        while not up and time.monotonic() < deadline and server.poll() is None:
            try:
                up = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.5)
        assert up, f"the action server did not come up:\n{log.read_text()[-3000:]}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
    lines = log.read_text(encoding="utf-8").splitlines()
    # The search actions registered, so `knowledge.search` (and with it faiss) was imported.
    assert any("'action_search_nearby'" in line for line in lines)
    assert [line for line in lines if "faiss" in line.lower() or "AVX" in line] == []
