"""`learncity serve ROLE`: one role of the assistant in the foreground, for systemd units or containers.

`learncity run` starts every role on one machine and makes up the internal secrets itself.
Roles on several machines cannot share a made-up secret, so each role refuses to start unless
the secrets it needs are set (`MissingSecretError` names them):

- `gateway` (web chat, webhooks, health) talks to Rasa with RASA_AUTH_TOKEN; with
  ACTION_SERVER_TOKEN set too, its `/health/ready` also probes the action server.
- `rasa` serves the trained model (trained first if missing) with RASA_AUTH_TOKEN, and calls
  the action server with ACTION_SERVER_TOKEN; it listens on RASA_INTERFACE, RASA_URL's port.
- `actions` runs the action server, answering only ACTION_SERVER_TOKEN, on
  ACTION_SERVER_INTERFACE, ACTION_SERVER_URL's port.
- `worker` sends broadcasts (bot/broadcast_worker.py): with REDIS_URL it takes chunks from the
  shared queue and shares the send rate with the other workers; it needs no secret and no port.

Each role applies the database migrations and refuses a taken port, naming it, as `run` does;
none fills an empty catalog (import it once with `learncity catalog import`), so replicas
starting together never import the same file at once. SIGTERM or Ctrl-C stops the role and
exits 0; restarting a crashed role is the process manager's job (systemd `Restart=`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from bot.managed_process import ManagedProcess, ensure_ports_free
from bot.supervisor import StackPorts, check_internal_secrets, rasa_probe
from core.database import upgrade_database
from core.settings import Settings

logger = logging.getLogger(__name__)

ROLES = ("gateway", "rasa", "actions", "worker")
_SECRETS = {
    "gateway": ("RASA_AUTH_TOKEN",),
    "rasa": ("RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN"),
    "actions": ("ACTION_SERVER_TOKEN",),
    "worker": (),
}


class MissingSecretError(ValueError):
    """A role was started without a secret it must share with the other roles."""


def require_secrets(settings: Settings, role: str) -> None:
    """Raise MissingSecretError naming every secret this role needs that is not set, and
    InvalidSecretError naming one set to a value HTTP cannot carry."""
    check_internal_secrets(settings)
    values = {
        "RASA_AUTH_TOKEN": settings.rasa_auth_token.get_secret_value(),
        "ACTION_SERVER_TOKEN": settings.action_server_token.get_secret_value(),
    }
    missing = [name for name in _SECRETS[role] if not values[name]]
    if missing:
        raise MissingSecretError(
            f"`learncity serve {role}` needs {' and '.join(missing)} set: the roles run as "
            f"separate processes and must share the same secret (e.g. "
            f"`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, put in the "
            f"environment of every role; `learncity run` makes them up only for itself)"
        )


def serve_role(settings: Settings, role: str, model: Path | None = None) -> int:
    """Run one role until SIGTERM or Ctrl-C (KeyboardInterrupt, see `stopping_on_signals`).

    `model` (rasa only): serve this trained model file instead of the one for the training
    data in this checkout (trained first if missing), so every replica serves the same one."""
    require_secrets(settings, role)
    if role == "gateway":
        _serve_gateway(settings)
        return 0
    if role == "rasa":
        return _serve_rasa(settings, model)
    if role == "actions":
        return _serve_actions(settings)
    if role == "worker":
        return _serve_worker(settings)
    raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


def _serve_gateway(settings: Settings) -> None:
    from bot.conversation import conversation_for
    from bot.stack import serve_gateway

    ensure_ports_free([("gateway", settings.gateway_host, settings.gateway_port)])
    upgrade_database(settings.sqlalchemy_url)
    print(
        f"learncity gateway on http://{settings.gateway_host}:{settings.gateway_port}, "
        f"Rasa at {', '.join(settings.rasa_urls)}",
        flush=True,
    )
    serve_gateway(settings, conversation_for(settings))


def _serve_worker(settings: Settings) -> int:
    from bot.broadcast_worker import serve_worker

    upgrade_database(settings.sqlalchemy_url)
    queue = "the Redis queue" if settings.redis_url else "the database (no REDIS_URL: run one)"
    print(f"learncity broadcast worker, taking work from {queue}", flush=True)
    serve_worker(settings)
    return 0


def _serve_actions(settings: Settings) -> int:
    from bot import action_server
    from bot.bootstrap import prepare_index

    port = StackPorts.from_settings(settings).actions
    ensure_ports_free([("action server", settings.action_server_interface, port)])
    upgrade_database(settings.sqlalchemy_url)
    prepare_index()
    print(f"learncity action server on {settings.action_server_interface}:{port}", flush=True)
    # Sanic stops on SIGTERM by itself and returns here.
    return action_server.main(["--port", str(port)])


def _serve_rasa(settings: Settings, model: Path | None = None) -> int:
    """Rasa as a child (Rasa's own Python), stopped with its whole group when we stop."""
    from bot.bootstrap import prepare_model
    from bot.supervisor import _serving_environment
    from nlu.serving import rasa_run_command, write_endpoints

    port = StackPorts.from_settings(settings).rasa
    ensure_ports_free([("Rasa server", settings.rasa_interface, port)])
    database_url = settings.sqlalchemy_url
    upgrade_database(database_url)  # Rasa's conversation store (table `events`) included
    model = model or prepare_model(settings)
    token = settings.rasa_auth_token.get_secret_value()
    endpoints = write_endpoints(
        settings,
        settings.action_server_url,
        database_url,
        settings.action_server_token.get_secret_value(),
    )
    env = _serving_environment()
    env["RASA_AUTH_TOKEN"] = token
    env.pop("ACTION_SERVER_TOKEN", None)  # Rasa reads it from the endpoints file
    host = (
        "127.0.0.1" if settings.rasa_interface in ("", "0.0.0.0", "::") else settings.rasa_interface
    )
    rasa = ManagedProcess(
        name="Rasa server",
        command=rasa_run_command(settings, model, port, endpoints),
        probe=rasa_probe(f"http://{host}:{port}", token),
        log_file=settings.data_dir / "logs" / "rasa-server.log",
        env=env,
        port=port,
        interface=settings.rasa_interface,
    )
    rasa.start()
    try:
        rasa.wait_healthy()
        print(f"learncity Rasa server on {settings.rasa_interface}:{port}", flush=True)
        while rasa.is_running():
            time.sleep(1.0)
        code = rasa.process.returncode if rasa.process else 1
        logger.error("Rasa server exited (code %s); see %s", code, rasa.log_file)
        return code or 1
    finally:
        rasa.stop()
