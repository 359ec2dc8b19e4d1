"""Start, health-check, watch and stop the processes the assistant needs (Rasa, action server)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from core.settings import REPOSITORY_ROOT, Settings
from nlu.serving import CREDENTIALS_FILE, write_endpoints
from nlu.training import rasa_environment, rasa_executable

logger = logging.getLogger(__name__)


class ServiceStartError(RuntimeError):
    """A managed process did not become healthy; the message names its log file."""


@dataclass
class ManagedProcess:
    """One child process with a health URL and a log file, restarted if it dies."""

    name: str
    command: list[str]
    health_url: str
    log_file: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    startup_timeout: float = 180.0
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=REPOSITORY_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so Ctrl-C reaches us first and we stop children in order
        )
        log.close()
        logger.info("started %s (pid %s), log: %s", self.name, self.process.pid, self.log_file)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_healthy(self) -> bool:
        try:
            return httpx.get(self.health_url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise ServiceStartError(
                    f"{self.name} exited with code {self.process.returncode if self.process else '?'}"
                    f" while starting; see {self.log_file}"
                )
            if self.is_healthy():
                logger.info("%s is up at %s", self.name, self.health_url)
                return
            time.sleep(0.5)
        raise ServiceStartError(
            f"{self.name} was not healthy within {self.startup_timeout:.0f} s; see {self.log_file}"
        )

    def stop(self, timeout: float = 15.0) -> None:
        if not self.is_running():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        logger.info("stopped %s", self.name)


@dataclass(frozen=True)
class StackPorts:
    rasa: int = 5005
    actions: int = 5055

    @classmethod
    def from_settings(cls, settings: Settings) -> StackPorts:
        """The ports named by RASA_URL and ACTION_SERVER_URL."""
        return cls(
            rasa=urlsplit(settings.rasa_url).port or 5005,
            actions=urlsplit(settings.action_server_url).port or 5055,
        )


class Supervisor:
    """Runs the action server and the Rasa server(s); a watchdog restarts any that crashes."""

    def __init__(
        self, settings: Settings, model: Path, database_url: str, ports: StackPorts
    ) -> None:
        self.settings = settings
        self.ports = ports
        logs = settings.data_dir / "logs"
        action_url = f"http://127.0.0.1:{ports.actions}/webhook"
        endpoints = write_endpoints(settings, action_url, database_url)
        app_env = dict(os.environ)
        app_env["DATABASE_URL"] = database_url
        app_env["LEARNCITY_DATA_DIR"] = str(settings.data_dir)
        self.actions = ManagedProcess(
            name="action server",
            command=[
                sys.executable,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(ports.actions),
            ],
            health_url=f"http://127.0.0.1:{ports.actions}/health",
            log_file=logs / "action-server.log",
            env=app_env,
        )
        self.rasa_servers = [
            self._rasa_process(index, ports.rasa + index, model, endpoints)
            for index in range(settings.rasa_servers)
        ]
        self.rasa = self.rasa_servers[0]
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None

    def _rasa_process(self, index: int, port: int, model: Path, endpoints: Path) -> ManagedProcess:
        suffix = f" {index + 1}" if self.settings.rasa_servers > 1 else ""
        return ManagedProcess(
            name=f"Rasa server{suffix}",
            command=[
                str(rasa_executable(self.settings)),
                "run",
                "--enable-api",
                "--model",
                str(model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(CREDENTIALS_FILE),
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            health_url=f"http://127.0.0.1:{port}/status",
            log_file=self.settings.data_dir
            / "logs"
            / (f"rasa-server-{index + 1}.log" if index else "rasa-server.log"),
            env=_serving_environment(),
        )

    @property
    def rasa_url(self) -> str:
        return self.rasa_urls[0]

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa server, in the order `Conversation` spreads citizens over them."""
        return [f"http://127.0.0.1:{self.ports.rasa + i}" for i in range(len(self.rasa_servers))]

    @property
    def processes(self) -> list[ManagedProcess]:
        return [self.actions, *self.rasa_servers]

    def start(self) -> None:
        """Start both servers in parallel and wait until each answers its health check."""
        for managed in self.processes:
            managed.start()
        try:
            for managed in self.processes:
                managed.wait_healthy()
        except ServiceStartError:
            self.stop()
            raise
        self._watchdog = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._watchdog.start()

    def _watch(self) -> None:
        while not self._stopping.wait(2.0):
            for managed in self.processes:
                if not managed.is_running() and not self._stopping.is_set():
                    managed.restarts += 1
                    logger.error(
                        "%s stopped unexpectedly (exit %s); restarting (restart %d); see %s",
                        managed.name,
                        managed.process.returncode if managed.process else "?",
                        managed.restarts,
                        managed.log_file,
                    )
                    managed.start()

    def stop(self) -> None:
        self._stopping.set()
        for managed in reversed(self.processes):
            managed.stop()


def _serving_environment() -> dict[str, str]:
    """Rasa's environment for answering: TensorFlow on one thread per server.

    A turn runs a small model on one message; spreading it over threads only adds
    hand-offs, and with several Rasa servers the threads of one steal the others' cores.
    """
    env = rasa_environment()
    env.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
    env.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env
