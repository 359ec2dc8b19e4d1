"""Bring the whole assistant up (prepared data, Rasa, action server, gateway) and down again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from bot.bootstrap import prepare_database, prepare_index, prepare_model
from bot.channels.base import Channel
from bot.channels.configured import build_channels
from bot.conversation import Conversation
from bot.gateway import create_app
from bot.supervisor import ManagedProcess, StackPorts, Supervisor
from core.settings import Settings
from nlu.serving import CREDENTIALS_FILE, is_up
from nlu.training import rasa_environment, rasa_executable

logger = logging.getLogger(__name__)


def free_port(count: int = 1) -> int:
    """A free local port, and the `count - 1` ports after it free too (for several servers)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            first = sock.getsockname()[1]
        if all(_is_free(first + offset) for offset in range(1, count)):
            return first


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


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
    return create_app(conversation, channels)


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
def rasa_for_parsing(settings: Settings) -> Iterator[str]:
    """A Rasa server URL to parse with: the configured one if it answers, else a temporary one."""
    if is_up(settings.rasa_url, "/status"):
        yield settings.rasa_url
        return
    model = prepare_model(settings)
    port = free_port()
    server = ManagedProcess(
        name="Rasa server (parse)",
        command=[
            str(rasa_executable(settings)),
            "run",
            "--enable-api",
            "--model",
            str(model),
            "--credentials",
            str(CREDENTIALS_FILE),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        health_url=f"http://127.0.0.1:{port}/status",
        log_file=settings.data_dir / "logs" / "rasa-parse.log",
        env=rasa_environment(),
    )
    server.start()
    try:
        server.wait_healthy()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
