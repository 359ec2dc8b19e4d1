"""Several machines on one: every role as its own `learncity serve ROLE` process, on PostgreSQL
and Redis, two replicas each, gateways and action servers behind a round-robin balancer.

What each process is given is what deploy/learncity.env.example asks of an operator: the
same DATABASE_URL, REDIS_URL and secrets everywhere, its own data dir (as its own machine
would have), gateways in Telegram webhook mode and with a WeChat account. Used by the cluster
tests and by bench/cluster_bench.py; Rasa servers take a minute or more to start on a busy
machine, so start one `Cluster` per test module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from bot.health import action_server_outcome, rasa_outcome
from bot.stack import free_port
from core.settings import REPOSITORY_ROOT, Settings
from tests.cluster.balancer import HAProxyBalancer, RoundRobinBalancer
from tests.conftest import SHARED_MODELS_DIR
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi
from tests.faults.postgres import TemporaryPostgres
from tests.services import REDIS_URL

TELEGRAM_SECRET = "cluster-secret_7d2e"
WECHAT_TOKEN = "learncityClusterToken7"
START_TIMEOUT_SECONDS = 600.0  # two Rasa servers loading on two busy cores


@dataclass
class RoleProcess:
    """One `learncity serve ROLE` replica."""

    name: str  # e.g. "rasa-2"
    role: str
    port: int
    env: dict[str, str]
    log: Path
    arguments: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        learncity = str(Path(sys.executable).with_name("learncity"))
        command = [learncity, "serve", self.role, *self.arguments]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=REPOSITORY_ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """`kill -9`: the machine is gone (a Rasa role's own child dies with it)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Cluster:
    """Two gateways, two Rasa servers and two action servers on one database and one Redis."""

    root: Path
    database_url: str
    telegram_token: str
    telegram_api_url: str
    wechat_app_id: str
    wechat_app_secret: str
    wechat_api_url: str
    replicas: int = 2
    model: Path | None = None  # the trained model every Rasa replica serves (default: current)
    # Replicas given the smallest pool (DATABASE_POOL_SIZE=2, no overflow); PostgreSQL sees their
    # connections under application_name "learncity-<name>" (`connections_of`).
    small_pools: tuple[str, ...] = ()
    redis_prefix: str = field(default_factory=lambda: f"lc{uuid.uuid4().hex[:10]}:")
    rasa_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    action_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    # In front of the gateways and the action servers: "python" (tests/cluster/balancer.py's
    # RoundRobinBalancer, a thread of this process) or "haproxy" (Debian's, a process of its own)
    balancer: str = "python"
    roles: dict[str, RoleProcess] = field(default_factory=dict)
    gateways: RoundRobinBalancer | HAProxyBalancer | None = None
    actions: RoundRobinBalancer | HAProxyBalancer | None = None

    @property
    def url(self) -> str:
        """Where citizens and platforms reach the gateways (the balancer)."""
        assert self.gateways is not None
        return self.gateways.url

    def of_role(self, role: str) -> list[RoleProcess]:
        return [process for process in self.roles.values() if process.role == role]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{process.port}" for process in self.of_role("rasa")]

    def base_env(self, data_dir: Path) -> dict[str, str]:
        """What every role is given: one database, one Redis, the shared secrets."""
        env = dict(os.environ)
        env.update(
            {
                "LEARNCITY_DATA_DIR": str(data_dir),
                "LEARNCITY_MODELS_DIR": str(SHARED_MODELS_DIR),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": REDIS_URL,
                "REDIS_KEY_PREFIX": self.redis_prefix,
                "RASA_AUTH_TOKEN": self.rasa_token,
                "ACTION_SERVER_TOKEN": self.action_token,
                "LEARNCITY_TODAY": "2026-12-01",
                "LEARNCITY_LOG_LEVEL": "WARNING",
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
            }
        )
        return env

    def setup_settings(self) -> Settings:
        return Settings(
            learncity_data_dir=self.root / "setup",
            learncity_models_dir=SHARED_MODELS_DIR,
            database_url=self.database_url,
        )

    def start(self) -> None:
        """Migrate and fill the catalog once, train the model if needed, start every role."""
        from bot.bootstrap import prepare_database, prepare_model

        settings = self.setup_settings()
        prepare_database(settings)  # what an operator runs once: migrations, then the catalog
        # Trained once here, not by two Rasa roles at once; every replica serves this file even
        # if the training data changes meanwhile.
        self.model = self.model or prepare_model(settings)
        actions_ports = [free_port() for _ in range(self.replicas)]
        rasa_port = free_port(self.replicas)  # consecutive: RASA_URL + RASA_SERVERS on gateways
        gateway_ports = [free_port() for _ in range(self.replicas)]
        self.actions = self._balancer(actions_ports)
        self.gateways = self._balancer(gateway_ports)
        for index, port in enumerate(actions_ports, start=1):
            self._add("actions", index, port, ACTION_SERVER_URL=f"http://127.0.0.1:{port}/webhook")
        for index in range(1, self.replicas + 1):
            self._add(
                "rasa",
                index,
                rasa_port + index - 1,
                RASA_URL=f"http://127.0.0.1:{rasa_port + index - 1}",
                ACTION_SERVER_URL=f"{self.actions.url}/webhook",
            )
        for index, port in enumerate(gateway_ports, start=1):
            self._add(
                "gateway",
                index,
                port,
                GATEWAY_PORT=str(port),
                RASA_URL=f"http://127.0.0.1:{rasa_port}",
                RASA_SERVERS=str(self.replicas),
                ACTION_SERVER_URL=f"{self.actions.url}/webhook",
                TELEGRAM_BOT_TOKEN=self.telegram_token,
                TELEGRAM_API_BASE_URL=self.telegram_api_url,
                TELEGRAM_WEBHOOK_URL=f"{self.gateways.url}/telegram/webhook",
                TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
                WECHAT_TOKEN=WECHAT_TOKEN,
                WECHAT_APP_ID=self.wechat_app_id,
                WECHAT_APP_SECRET=self.wechat_app_secret,
                WECHAT_API_BASE_URL=self.wechat_api_url,
            )
        for process in self.roles.values():
            process.start()
        self.wait_ready(self.roles.values())

    def _balancer(self, ports: list[int]) -> RoundRobinBalancer | HAProxyBalancer:
        if self.balancer == "haproxy":
            return HAProxyBalancer(ports, self.root).__enter__()
        return RoundRobinBalancer(ports).__enter__()

    def _add(self, role: str, index: int, port: int, **settings: str) -> None:
        name = f"{role}-{index}"
        data_dir = self.root / name
        data_dir.mkdir(parents=True, exist_ok=True)
        env = self.base_env(data_dir) | settings
        if name in self.small_pools:
            separator = "&" if "?" in self.database_url else "?"
            env |= {
                "DATABASE_URL": f"{self.database_url}{separator}application_name=learncity-{name}",
                "DATABASE_POOL_SIZE": "2",
                "DATABASE_MAX_OVERFLOW": "0",
            }
        arguments = ["--model", str(self.model)] if role == "rasa" and self.model else []
        self.roles[name] = RoleProcess(
            name, role, port, env, self.root / f"{name}.log", arguments=arguments
        )

    def wait_ready(self, processes: Iterable[RoleProcess]) -> None:
        """Until each process answers on its real path (Rasa: /status with its token; actions:
        the no-op action with the secret; gateway: /health/ready)."""
        waiting = list(processes)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while waiting:
            for process in list(waiting):
                if process.process is not None and process.process.poll() is not None:
                    raise RuntimeError(f"{process.name} exited; its log ends:\n{process.tail()}")
                if self._answers(process):
                    waiting.remove(process)
            if time.monotonic() > deadline:
                names = ", ".join(process.name for process in waiting)
                raise RuntimeError(f"not ready after {START_TIMEOUT_SECONDS:.0f} s: {names}")
            time.sleep(1.0)

    def _answers(self, process: RoleProcess) -> bool:
        url = f"http://127.0.0.1:{process.port}"
        if process.role == "rasa":
            return rasa_outcome(url, self.rasa_token)(5.0) == "up"
        if process.role == "actions":
            return action_server_outcome(f"{url}/webhook", self.action_token)(5.0) == "up"
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{url}/health/ready", timeout=5).status_code == 200
        return False

    def restart(self, name: str) -> None:
        """Start a killed replica again (as systemd's Restart= would) and wait until it answers."""
        process = self.roles[name]
        process.start()
        self.wait_ready([process])

    def stop(self) -> None:
        for process in self.roles.values():
            process.stop()
        for balancer in (self.gateways, self.actions):
            if balancer is not None:
                balancer.__exit__()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{self.redis_prefix}*"):  # Rasa's locks too
            client.delete(key)
        client.close()


@contextlib.contextmanager
def running_cluster(
    root: Path,
    telegram: FakeTelegramApi,
    wechat: FakeWeChatApi,
    model: Path,
    small_pools: tuple[str, ...] = (),
    balancer: str = "python",
) -> Iterator[Cluster]:
    """A started `Cluster` on a PostgreSQL of its own, talking to these platform stand-ins."""
    with TemporaryPostgres() as postgres:
        cluster = Cluster(
            root=root,
            database_url=postgres.url,
            telegram_token=telegram.token,
            telegram_api_url=telegram.base_url,
            wechat_app_id=wechat.app_id,
            wechat_app_secret=wechat.app_secret,
            wechat_api_url=wechat.base_url,
            model=model,
            small_pools=small_pools,
            balancer=balancer,
        )
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()


def trained_model() -> Path:
    """The model for the current training data (trained first when missing, once per hash)."""
    from bot.bootstrap import prepare_model

    return prepare_model(Settings(learncity_models_dir=SHARED_MODELS_DIR))
