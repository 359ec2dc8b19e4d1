"""Bring the whole assistant up (prepared data, Rasa, action server, gateway) and down again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from bot.bootstrap import prepare_database, prepare_index, prepare_model
from bot.channels.base import Channel
from bot.channels.configured import build_channels
from bot.conversation import Conversation
from bot.gateway import create_app
from bot.health import HealthMonitor
from bot.supervisor import (
    ManagedProcess,
    StackPorts,
    Supervisor,
    ensure_ports_free,
    rasa_probe,
    with_internal_secrets,
)
from core.settings import Settings
from nlu.serving import is_up, rasa_run_command
from nlu.training import rasa_environment

logger = logging.getLogger(__name__)
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


# Every port this process handed out: a port is only checked free, not held, until its server
# binds it (Rasa: after a minute of loading), so two calls in a row (Rasa's and the action
# server's port) could draw the same free port and one server would then find it taken.
_HANDED_OUT: set[int] = set()
_HANDED_OUT_LOCK = threading.Lock()


def free_port(count: int = 1, chooser: random.Random | None = None) -> int:
    """A free local port, and the `count - 1` ports after it free too (for several servers);
    never one this process handed out before, so ports asked for together never meet.

    Picked below the kernel's ephemeral range: a server that takes 40 s to load its model
    binds its port late, and a port from that range could meanwhile become the source port
    of any outgoing connection on the machine ("address already in use"). `chooser` draws
    the candidates (default: the system's randomness)."""
    with _HANDED_OUT_LOCK:
        first = _pick_free_ports(count, chooser or random.SystemRandom())
        _HANDED_OUT.update(range(first, first + count))
    return first


def _pick_free_ports(count: int, chooser: random.Random) -> int:
    low, high = _ports_below_ephemeral()
    if high - low > 100 * count:
        for _ in range(1000):
            first = chooser.randrange(low, high - count)
            if all(_unused(first + offset) for offset in range(count)):
                return first
    while True:  # a machine with no room below its ephemeral range: ask the kernel
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            first = sock.getsockname()[1]
        if all(_unused(first + offset) for offset in range(count)):
            return first


def _unused(port: int) -> bool:
    return port not in _HANDED_OUT and _is_free(port)


def _ports_below_ephemeral() -> tuple[int, int]:
    """The unprivileged ports (from 10000) under the ephemeral range that Linux gives outgoing
    connections (/proc/sys/net/ipv4/ip_local_port_range; 32768 when it cannot be read)."""
    try:
        ephemeral_low = int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    return 10000, ephemeral_low


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGTERM (systemd, containers) stops like Ctrl-C: both raise KeyboardInterrupt once.

    uvicorn catches both signals for its own clean shutdown and raises them again afterwards,
    which reaches this handler, so the `finally` blocks that stop Rasa and the action server
    run. Once stopping, every further signal is ignored until the process exits (SIG_IGN after
    the stop, which Python keeps through its own finalisation, where it would otherwise reset
    a handler to the default and a late Ctrl-C would kill the process): an impatient second
    Ctrl-C can neither cut the stopping short nor turn a clean stop into an exit by SIGINT."""
    stopping = False

    def handler(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        logger.info("received %s; stopping every process", signal.Signals(signum).name)
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_IGN if stopping else old)


def ensure_stack_ports_free(settings: Settings, ports: StackPorts | None = None) -> None:
    """Refuse to start (PortInUseError naming the port) when any port of the stack is taken."""
    ports = ports or StackPorts.from_settings(settings)
    ensure_ports_free(
        [
            ("gateway", settings.gateway_host, settings.gateway_port),
            ("action server", settings.action_server_interface, ports.actions),
            *(
                (f"Rasa server {i + 1}", settings.rasa_interface, ports.rasa + i)
                for i in range(settings.rasa_servers)
            ),
        ]
    )


@contextlib.contextmanager
def running_assistant(
    settings: Settings, ports: StackPorts | None = None, model: Path | None = None
) -> Iterator[Supervisor]:
    """Prepare everything, start Rasa and the action server, stop them on exit (also on Ctrl-C).

    `model` serves an already trained model file instead of the one for the current training
    data (which is trained first if it is missing)."""
    url = prepare_database(settings)
    prepare_index()
    model = model or prepare_model(settings)
    supervisor = Supervisor(settings, model, url, ports or StackPorts.from_settings(settings))
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


def gateway_app(
    settings: Settings, conversation: Conversation, channels: Sequence[Channel] | None = None
) -> Starlette:
    """The gateway with every configured channel (built here once unless given)."""
    if channels is None:
        channels = build_channels(conversation, settings)
    return create_app(conversation, channels, HealthMonitor.for_stack(settings, conversation))


def serve_gateway(settings: Settings, conversation: Conversation) -> None:
    """Serve the gateway in the foreground until Ctrl-C."""
    app = gateway_app(settings, conversation)
    config = uvicorn.Config(
        app, host=settings.gateway_host, port=settings.gateway_port, log_level="warning"
    )
    logger.info("web chat on http://%s:%d", settings.gateway_host, settings.gateway_port)
    uvicorn.Server(config).run()


def serve_gateway_in_thread(settings: Settings, conversation: Conversation) -> uvicorn.Server:
    """Serve the gateway from a background thread (so the console can use the foreground)."""
    app = gateway_app(settings, conversation)
    config = uvicorn.Config(
        app, host=settings.gateway_host, port=settings.gateway_port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve()), name="gateway", daemon=True
    )
    thread.start()
    logger.info("web chat on http://%s:%d", settings.gateway_host, settings.gateway_port)
    return server


@contextlib.contextmanager
def rasa_for_parsing(settings: Settings) -> Iterator[tuple[str, str]]:
    """A Rasa server URL and its API token to parse with: the configured server if it accepts
    RASA_AUTH_TOKEN, else a temporary one of our own on a free local port."""
    token = settings.rasa_auth_token.get_secret_value()
    if token and is_up(settings.rasa_url, "/status", token=token):
        yield settings.rasa_url, token
        return
    model = prepare_model(settings)
    port = free_port()
    local = with_internal_secrets(settings.model_copy(update={"rasa_interface": "127.0.0.1"}))
    token = local.rasa_auth_token.get_secret_value()
    url = f"http://127.0.0.1:{port}"
    env = rasa_environment()
    env["RASA_AUTH_TOKEN"] = token
    server = ManagedProcess(
        name="Rasa server (parse)",
        command=rasa_run_command(local, model, port),
        probe=rasa_probe(url, token),
        log_file=settings.data_dir / "logs" / "rasa-parse.log",
        env=env,
    )
    server.start()
    try:
        server.wait_healthy()
        yield url, token
    finally:
        server.stop()
