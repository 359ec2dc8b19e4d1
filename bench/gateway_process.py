"""Run the gateway in its own uvicorn process for a benchmark, so load and server share no loop."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.settings import REPOSITORY_ROOT


@dataclass(frozen=True)
class RunningGateway:
    url: str  # e.g. http://127.0.0.1:8123
    pid: int  # for the CPU accounting


@contextlib.contextmanager
def gateway_process(
    app_factory: str, env: dict[str, str], port: int, log: Path
) -> Iterator[RunningGateway]:
    """Start `uvicorn --factory app_factory` on loopback, wait for /health, yield it."""
    command = [
        sys.executable, "-m", "uvicorn", app_factory,
        "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=REPOSITORY_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                # The log lives in the benchmark's temporary folder: show its end here.
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                raise RuntimeError(f"the gateway did not start; the end of {log}:\n{tail}")
            time.sleep(0.2)
        yield RunningGateway(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
