"""The assistant a channel benchmark talks to, and where the machine's CPU went meanwhile.

By default the real stack: the trained model (trained first if the training data changed)
behind the real Rasa server, the real action server, the sample city in a temp database —
what `learncity run` starts. Two other sources exist for looking at the harness itself, and
their results are filed apart: an already running Rasa (`--rasa-url`), and the echoing fake
Rasa from tests/fakes (`--fake-rasa`: the gateway and platform stand-ins alone, to see the
transport's own ceiling; not the issue's measure).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from bot.supervisor import Supervisor

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
REAL_STACK = "real stack"  # trained model, Rasa server, action server
OWN_PROCESS = "bench"  # the load generator and the platform stand-ins
OTHERS = "everything else on the machine"


@dataclass
class BenchAssistant:
    rasa_url: str
    database_url: str
    source: str  # REAL_STACK, or what else answered
    processes: dict[str, int] = field(default_factory=dict)  # name -> pid, for CPU accounting
    # What a gateway process started by a benchmark needs in its environment to reach this
    # stack and judge its readiness: the internal secrets it was started with and where the
    # action server listens (RASA_AUTH_TOKEN, ACTION_SERVER_TOKEN, ACTION_SERVER_URL).
    gateway_env: dict[str, str] = field(default_factory=dict)

    def gateway_environment(
        self, data_dir: Path, rasa_url: str | None = None, **settings: str
    ) -> dict[str, str]:
        """The environment of a gateway process a benchmark starts in front of this stack:
        its data, database and Rasa, quiet logs, the given settings, then the stack's
        secrets and action server URL."""
        env = dict(os.environ)
        env.update(
            {
                "LEARNCITY_DATA_DIR": str(data_dir),
                "DATABASE_URL": self.database_url,
                "RASA_URL": rasa_url or self.rasa_url,
                **settings,
                "LEARNCITY_LOG_LEVEL": "WARNING",
                **self.gateway_env,
            }
        )
        return env

    @property
    def webhook_headers(self) -> dict[str, str]:
        """What a direct call to Rasa's webhook must carry (nlu/rasa_channel.py)."""
        token = self.gateway_env.get("RASA_AUTH_TOKEN", "")
        return {"Authorization": f"Bearer {token}"} if token else {}

    @property
    def is_real(self) -> bool:
        return self.source == REAL_STACK


def add_source_arguments(parser: argparse.ArgumentParser, rasa_servers: int = 1) -> None:
    parser.add_argument(
        "--rasa-servers",
        type=int,
        default=rasa_servers,
        help="Rasa servers for the real stack (RASA_SERVERS); citizens are spread by sender",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--model", type=Path, help="serve this trained model file (default: current training data)"
    )
    source.add_argument(
        "--rasa-url", default="", help="an already running Rasa server (harness check)"
    )
    source.add_argument(
        "--fake-rasa",
        action="store_true",
        help="the echoing fake Rasa: the transport's own ceiling, not the issue's measure",
    )


@contextlib.contextmanager
def bench_assistant(data_dir: Path, args: argparse.Namespace) -> Iterator[BenchAssistant]:
    """The assistant the arguments ask for, on a fresh database in `data_dir`."""
    from core.settings import get_settings

    os.environ["LEARNCITY_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'learncity.db'}"
    os.environ.setdefault("LEARNCITY_MODELS_DIR", str(REPOSITORY_ROOT / ".data" / "models"))
    os.environ["RASA_SERVERS"] = str(getattr(args, "rasa_servers", 1))
    get_settings.cache_clear()
    settings = get_settings()
    if args.rasa_url or args.fake_rasa:
        from core.database import upgrade_database

        upgrade_database(settings.sqlalchemy_url)
        if args.rasa_url:
            yield BenchAssistant(args.rasa_url, settings.sqlalchemy_url, "external Rasa")
            return
        from tests.fakes.rasa_rest import FakeRasa

        with FakeRasa() as fake:
            yield BenchAssistant(fake.url, settings.sqlalchemy_url, "fake Rasa (echo)")
        return
    from bot.stack import free_port, running_assistant
    from bot.supervisor import StackPorts

    ports = StackPorts(rasa=free_port(settings.rasa_servers), actions=free_port())
    with running_assistant(settings, ports, model=args.model) as supervisor:
        assert supervisor.rasa.process and supervisor.actions.process
        processes = {"actions": supervisor.actions.process.pid}
        for index, server in enumerate(supervisor.rasa_servers):
            assert server.process
            processes["Rasa" if index == 0 else f"Rasa {index + 1}"] = server.process.pid
        yield BenchAssistant(
            supervisor.rasa_url,
            settings.sqlalchemy_url,
            REAL_STACK,
            processes,
            _gateway_env(supervisor),
        )


def _gateway_env(supervisor: Supervisor) -> dict[str, str]:
    """The secrets the supervisor gave its children and the action server's URL."""
    env = {"ACTION_SERVER_URL": f"http://127.0.0.1:{supervisor.ports.actions}/webhook"}
    for name in ("rasa_auth_token", "action_server_token"):
        value = getattr(supervisor.settings, name, None)
        if value is not None and value.get_secret_value():
            env[name.upper()] = value.get_secret_value()
    return env


class CpuMeter:
    """CPU seconds each process (with its children) used between `start` and `stop`."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = dict(processes)
        self.processes[OWN_PROCESS] = os.getpid()  # its children are counted above, not here
        self._started: dict[str, float] = {}
        self._started_at = 0.0
        self._machine_busy_before = 0.0
        self.load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self.load_before = os.getloadavg()
        self._started = {name: self._cpu_seconds(name) for name in self.processes}
        self._machine_busy_before = _machine_busy_seconds()
        self._started_at = time.monotonic()

    def stop(self, messages: int) -> dict:
        elapsed = time.monotonic() - self._started_at
        used = {name: self._cpu_seconds(name) - self._started[name] for name in self.processes}
        # Training or another benchmark running meanwhile takes cores from the one measured.
        machine = _machine_busy_seconds() - self._machine_busy_before
        used[OTHERS] = max(0.0, machine - sum(used.values()))
        return {
            "elapsed_s": round(elapsed, 2),
            "cores_busy": {name: round(s / elapsed, 2) for name, s in used.items()},
            "cpu_ms_per_message": {
                name: round(s * 1000 / max(1, messages), 1) for name, s in used.items()
            },
            "load_average_before": [round(x, 2) for x in self.load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
        }

    def _cpu_seconds(self, name: str) -> float:
        """The process's user and system CPU seconds, with its children's (but not ours)."""
        try:
            process = psutil.Process(self.processes[name])
            children = process.children(recursive=True) if name != OWN_PROCESS else []
        except psutil.NoSuchProcess:
            return 0.0
        return _sum_cpu([process, *children])


def _machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    busy = ("user", "nice", "system", "irq", "softirq", "steal")  # guest time is within user
    return sum(getattr(times, name, 0.0) for name in busy)


def _sum_cpu(members: list[psutil.Process]) -> float:
    total = 0.0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = member.cpu_times()
            total += times.user + times.system
    return total


def cpu_rows(cpu: dict) -> list[list[object]]:
    """Table rows: where the CPU went per message, and what else kept the machine busy."""
    ours = {name: ms for name, ms in cpu["cpu_ms_per_message"].items() if name != OTHERS}
    load = cpu["load_average_before"][0], cpu["load_average_after"][0]
    return [
        [f"CPU ms per message: {' / '.join(ours)}", " / ".join(f"{ms:g}" for ms in ours.values()), ""],
        ["other work on the machine meanwhile (cores)", cpu["cores_busy"][OTHERS], "0 for final numbers"],
        ["load average (1 min) before → after", f"{load[0]:.2f} → {load[1]:.2f}", f"{cpu['cpus']} cores"],
    ]  # fmt: skip
