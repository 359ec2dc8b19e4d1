"""Start, probe, watch and stop the processes the assistant needs (Rasa, action server).

- Each child is a `ManagedProcess` (bot/managed_process.py): its own process group, killed by
  the kernel if the thread that started it dies, cleared tree and all on restart. Each
  watchdog thread therefore stops its own child before it ends.
- Health is probed on the real path: Rasa's `/status` with its API token, and the action
  server's webhook running a no-op action with its secret (`bot/action_server.py`). A child that
  exited is restarted at once; one whose probes all fail for `SUPERVISOR_STALL_SECONDS` (a
  SIGSTOPped or wedged server), or a restarted one that uses no CPU for
  `SUPERVISOR_START_STALL_SECONDS` before its first answer, is killed, group and all, and
  restarted (bot/watchdog.py). One slow probe under load does not count; restarts in a loop
  back off up to 30 s.
- Start-up refuses a port already in use, naming it, before starting anything: a stranger's
  server on our port is never taken for ours.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.health import action_server_outcome, rasa_outcome
from bot.managed_process import (
    PROBE_TIMEOUT_SECONDS,
    ManagedProcess,
    PortInUseError,
    Probe,
    ServiceStartError,
    ensure_ports_free,
)
from bot.watchdog import Watchdog
from core.settings import Settings
from nlu.serving import rasa_run_command, write_endpoints
from nlu.training import rasa_environment, rasa_executable

logger = logging.getLogger(__name__)

TICKET_LOCK_LIFETIME_SECONDS = 20
# Re-exported: callers know the supervisor, not where its parts live.
__all__ = [
    "InvalidSecretError",
    "ManagedProcess",
    "PortInUseError",
    "ServiceStartError",
    "StackPorts",
    "Supervisor",
    "ensure_ports_free",
    "with_internal_secrets",
]


# The internal secrets travel in an HTTP header (`Authorization: Bearer`) and a URL's query:
# printable ASCII without spaces arrives unchanged. Anything else failed late and obscurely:
# a non-ASCII token made every health probe raise, and a trailing newline (a secret read from
# a file) made every probe "fail", so start-up waited its whole 400 s budget.
_SECRET_CHARACTERS = re.compile(r"[!-~]+")


class InvalidSecretError(ValueError):
    """An internal secret is set to a value HTTP cannot carry; the message names it."""


def check_internal_secrets(settings: Settings) -> None:
    """Raise InvalidSecretError naming RASA_AUTH_TOKEN or ACTION_SERVER_TOKEN when set to a value that
    is not printable ASCII without spaces."""
    for name, secret in (
        ("RASA_AUTH_TOKEN", settings.rasa_auth_token),
        ("ACTION_SERVER_TOKEN", settings.action_server_token),
    ):
        value = secret.get_secret_value()
        if value and not _SECRET_CHARACTERS.fullmatch(value):
            raise InvalidSecretError(
                f"{name} must be printable ASCII without spaces or line breaks (it travels in "
                f"HTTP headers); e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )


def with_internal_secrets(settings: Settings) -> Settings:
    """These settings with RASA_AUTH_TOKEN and ACTION_SERVER_TOKEN filled in (made up if unset);
    InvalidSecretError when one is set to a value HTTP cannot carry."""
    check_internal_secrets(settings)
    update = {}
    if not settings.rasa_auth_token.get_secret_value():
        update["rasa_auth_token"] = SecretStr(secrets.token_urlsafe(32))
    if not settings.action_server_token.get_secret_value():
        update["action_server_token"] = SecretStr(secrets.token_urlsafe(32))
    return settings.model_copy(update=update) if update else settings


def _local_host(interface: str) -> str:
    """Where this machine reaches a server listening on `interface`."""
    return "127.0.0.1" if interface in ("", "0.0.0.0", "::") else interface


def rasa_probe(url: str, token: str) -> Probe:
    """Rasa answers `/status` with the token (the model is loaded)."""
    outcome = rasa_outcome(url, token)
    return lambda timeout: outcome(timeout) == "up"


def action_server_probe(webhook_url: str, token: str) -> Probe:
    """The action server runs the no-op action through its webhook, with the secret."""
    outcome = action_server_outcome(webhook_url, token, sender_id="supervisor:health-probe")
    return lambda timeout: outcome(timeout) == "up"


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
    """Runs the action server and the Rasa server(s); a watchdog restarts any that dies or stalls.

    `settings` are the operator's; `self.settings` adds the secrets the children were given
    (pass those to `conversation_for` and the gateway). Create and `start()` it from the thread
    that will also call `stop()` (the main thread in practice): children die with that thread.
    """

    def __init__(
        self, settings: Settings, model: Path, database_url: str, ports: StackPorts
    ) -> None:
        actions_host = _local_host(settings.action_server_interface)
        action_url = f"http://{actions_host}:{ports.actions}/webhook"
        rasa_url = f"http://{_local_host(settings.rasa_interface)}:{ports.rasa}"
        # What the children were given: secrets, and the URLs of the ports actually used.
        self.settings = with_internal_secrets(settings).model_copy(
            update={"action_server_url": action_url, "rasa_url": rasa_url}
        )
        self.ports = ports
        self.stall_seconds = settings.supervisor_stall_seconds
        self.start_stall_seconds = settings.supervisor_start_stall_seconds
        rasa_executable(settings)  # a clear error when the Rasa venv is missing
        logs = settings.data_dir / "logs"
        endpoints = write_endpoints(settings, action_url, database_url, self.action_token)
        app_env = dict(os.environ)
        app_env["DATABASE_URL"] = database_url
        app_env["LEARNCITY_DATA_DIR"] = str(settings.data_dir)
        app_env["ACTION_SERVER_TOKEN"] = self.action_token
        app_env["ACTION_SERVER_INTERFACE"] = settings.action_server_interface
        app_env.pop("RASA_AUTH_TOKEN", None)  # the action server has no use for it
        self.actions = ManagedProcess(
            name="action server",
            command=[sys.executable, "-m", "bot.action_server", "--port", str(ports.actions)],
            probe=action_server_probe(action_url, self.action_token),
            log_file=logs / "action-server.log",
            env=app_env,
            port=ports.actions,
            interface=settings.action_server_interface,
        )
        self.rasa_servers = [
            self._rasa_process(index, ports.rasa + index, model, endpoints)
            for index in range(settings.rasa_servers)
        ]
        self.rasa = self.rasa_servers[0]
        self._stopping = threading.Event()
        self._watchdogs: list[threading.Thread] = []

    @property
    def rasa_token(self) -> str:
        return self.settings.rasa_auth_token.get_secret_value()

    @property
    def action_token(self) -> str:
        return self.settings.action_server_token.get_secret_value()

    def _rasa_process(self, index: int, port: int, model: Path, endpoints: Path) -> ManagedProcess:
        suffix = f" {index + 1}" if self.settings.rasa_servers > 1 else ""
        env = _serving_environment()
        env["RASA_AUTH_TOKEN"] = self.rasa_token
        env.pop("ACTION_SERVER_TOKEN", None)  # Rasa reads it from the endpoints file
        return ManagedProcess(
            name=f"Rasa server{suffix}",
            command=rasa_run_command(self.settings, model, port, endpoints),
            probe=rasa_probe(self.rasa_urls[index], self.rasa_token),
            log_file=self.settings.data_dir
            / "logs"
            / (f"rasa-server-{index + 1}.log" if index else "rasa-server.log"),
            env=env,
            port=port,
            interface=self.settings.rasa_interface,
        )

    @property
    def rasa_url(self) -> str:
        return self.rasa_urls[0]

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa server, in the order `Conversation` spreads citizens over them."""
        host = _local_host(self.settings.rasa_interface)
        return [f"http://{host}:{self.ports.rasa + i}" for i in range(self.settings.rasa_servers)]

    @property
    def processes(self) -> list[ManagedProcess]:
        return [self.actions, *self.rasa_servers]

    def start(self) -> None:
        """Check the ports, start every server, wait until each answers its probe, then watch."""
        ensure_ports_free(
            (managed.name, managed.interface, managed.port)
            for managed in self.processes
            if managed.port is not None
        )
        try:
            for managed in self.processes:
                managed.start()
            for managed in self.processes:
                managed.wait_healthy()
        except BaseException:  # also Ctrl-C or SIGTERM while waiting: leave nothing behind
            self.stop()
            raise
        for managed in self.processes:
            watchdog = Watchdog(
                managed, self._stopping, self.stall_seconds, self.start_stall_seconds
            )
            thread = threading.Thread(
                target=watchdog.run, name=f"watch {managed.name}", daemon=True
            )
            thread.start()
            self._watchdogs.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._watchdogs:
            thread.join(timeout=PROBE_TIMEOUT_SECONDS + 30)
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
    # Rasa's ticket lock on a conversation (in memory, or shared on Redis) expires after this
    # long (Rasa's default: 60 s). A server killed during a turn leaves its ticket behind, and
    # that citizen's next turns wait for it on every server: keep it just past the gateway's
    # own patience (RASA_TIMEOUT_SECONDS, 10 s by default).
    env.setdefault("TICKET_LOCK_LIFETIME", str(TICKET_LOCK_LIFETIME_SECONDS))
    # Rasa keeps up to 50 + 100 PostgreSQL connections per server by default; its tracker store
    # runs one query at a time on its event loop, so a few suffice (docs/deployment.md).
    env.setdefault("SQL_POOL_SIZE", "2")
    env.setdefault("SQL_MAX_OVERFLOW", "3")
    return env
