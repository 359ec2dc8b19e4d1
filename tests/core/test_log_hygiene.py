"""What the logs keep: no words a citizen wrote (also after "forget me"), no secrets in anyone's
traceback, and no flood of identical errors (issue 9, item 6)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from core import log_hygiene
from core.log_hygiene import redact_citizen_text
from core.logging_setup import configure_logging
from core.settings import REPOSITORY_ROOT, get_settings
from nlu.serving import RASA_LOGGING_CONFIG, WEBHOOK_PATH
from tests.conftest import RunningAssistant
from tests.fakes.loopback import free_port
from tests.nlu.rasa_venv import run_in_rasa_venv
from tests.waiting import wait_until

BOT_TOKEN = "123456789:AAH-very-secret-token-value-0123456789"
# Words no log line should ever hold: what a citizen wrote.
CITIZEN_WORDS = "zorblax quilting near Nanhu"


class _Clock:
    """The log filter's clock, stopped: it moves only when the test moves it, so a burst
    falls in one repeat window however busy the machine, and no test waits out a window."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def log_clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    clock = _Clock()
    monkeypatch.setattr(log_hygiene, "time", clock)
    return clock


@pytest.fixture
def captured_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The project's logging set-up writing into a string (restored afterwards)."""
    stream = io.StringIO()
    monkeypatch.setenv("LEARNCITY_LOG_REPEAT_SECONDS", "3")
    get_settings.cache_clear()
    configure_logging("INFO")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_learncity", False))
    handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    monkeypatch.delenv("LEARNCITY_LOG_REPEAT_SECONDS")
    get_settings.cache_clear()
    configure_logging("INFO")


def _send_reply(attempt: int) -> None:
    """A Bot API call during an outage, logged where the channel logs it."""
    try:
        raise ConnectionError(f"Bot API unreachable (attempt {attempt})")
    except ConnectionError:
        logging.getLogger("bot.channels.telegram").exception("telegram: sending a reply failed")


def test_ten_thousand_identical_errors_make_a_bounded_log(
    captured_log: io.StringIO, log_clock: _Clock
) -> None:
    for attempt in range(10_000):  # in one repeat window: the clock stands still
        _send_reply(attempt)
    log_clock.advance(3.1)  # past the repeat window: the next one passes and counts the others
    _send_reply(10_000)
    logging.getLogger("bot.channels.telegram").warning("another problem entirely")

    text = captured_log.getvalue()
    headlines = [line for line in text.splitlines() if "telegram: sending a reply failed" in line]
    assert len(headlines) == 2, headlines
    assert headlines[1].endswith("[9999 similar messages suppressed]")
    assert text.count("Traceback (most recent call last)") == 2
    assert "another problem entirely" in text
    assert len(text.encode()) < 5_000, f"{len(text.encode())} bytes for 10,001 errors"


def test_when_a_storm_stops_its_suppressed_count_is_still_written(
    captured_log: io.StringIO, log_clock: _Clock
) -> None:
    for attempt in range(500):
        _send_reply(attempt)
    log_clock.advance(3.1)  # the window passes with no new error of that kind
    logging.getLogger("bot.gateway").info("something else happened")

    lines = captured_log.getvalue().splitlines()
    summaries = [line for line in lines if "more like this were suppressed" in line]
    assert summaries == [
        summaries[0].split(" ERROR ")[0] + " ERROR bot.channels.telegram: 499 more like this "
        "were suppressed (at most one per 3 s): telegram: sending a reply failed"
    ]
    assert lines[-1].endswith("something else happened")


def test_citizen_text_is_redacted_from_messages_and_tracebacks(
    captured_log: io.StringIO, tmp_path: Path
) -> None:
    logger = logging.getLogger("bot.conversation")
    engine = create_engine(f"sqlite:///{tmp_path / 'down.db'}")
    try:  # a failed write lists its parameters: a tracker event holds the citizen's words
        with engine.begin() as connection:
            connection.execute(sql("INSERT INTO events VALUES (:data)"), {"data": CITIZEN_WORDS})
    except OperationalError:
        logger.exception("storing a turn failed")
    engine.dispose()
    logger.error('Rasa said {"text": "%s", "event": "rest.message.received.timeout"}', "x")
    logger.error("%s", '{"text": "' + CITIZEN_WORDS + '", "event": "rest.timeout"}')
    try:
        raise ValueError(f"IncomingMessage(sender_id='web:1', text='{CITIZEN_WORDS}')")
    except ValueError:
        logger.exception("a web turn failed")

    text = captured_log.getvalue()
    assert "zorblax" not in text
    assert '"text": "<27 chars>"' in text and "text='<27 chars>'" in text
    assert "rest.timeout" in text and "a web turn failed" in text
    assert "no such table: events" in text and "[parameters: hidden]" in text
    assert redact_citizen_text("a message of 3 parts") == "a message of 3 parts"


def test_secrets_are_scrubbed_from_other_loggers_tracebacks(captured_log: io.StringIO) -> None:
    for name in ("sanic.error", "httpx", "telegram.ext"):
        try:
            raise RuntimeError("POST https://example.org/hook?token=abc123secret&x=1 failed")
        except RuntimeError:
            logging.getLogger(name).exception("request failed")
    text = captured_log.getvalue()
    assert text.count("RuntimeError: POST https://example.org/hook?token=***&x=1 failed") == 3
    assert "abc123secret" not in text


_UVICORN_APP = textwrap.dedent(
    """
    import sys, uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Route
    from core.logging_setup import configure_logging

    async def crash(request):
        raise RuntimeError(
            "calling https://api.telegram.org/bot" + sys.argv[2] + "/sendMessage failed"
        )

    configure_logging()
    app = Starlette(routes=[Route("/crash", crash)])
    # uvicorn's own logging configuration, as the gateway and the tests' fakes run it
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
    """
)


def test_uvicorns_own_traceback_with_a_secret_is_scrubbed(tmp_path: Path) -> None:
    port = free_port()
    log_file = tmp_path / "gateway.log"
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=BOT_TOKEN, PYTHONPATH=str(REPOSITORY_ROOT))
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _UVICORN_APP, str(port), BOT_TOKEN],
            cwd=REPOSITORY_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def logged(line: str) -> Callable[[], bool]:
            def seen() -> bool:
                assert process.poll() is None, log_file.read_text()
                return line in log_file.read_text()

            return seen

        wait_until(logged("Uvicorn running"), 30, "the app", details=log_file.read_text)
        answer = httpx.get(f"http://127.0.0.1:{port}/crash", timeout=10)
        wait_until(logged("Exception in ASGI application"), 30, "the crash logged")
    finally:
        process.terminate()
        process.wait(timeout=15)
    text = log_file.read_text()
    assert answer.status_code == 500
    assert "RuntimeError: calling https://api.telegram.org/bot***/sendMessage failed" in text
    assert BOT_TOKEN not in text and BOT_TOKEN.split(":")[1] not in text


_RASA_LOGGING = textwrap.dedent(
    """
    import io, json, sys
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    sys.stdout = sys.stderr = captured = io.StringIO()
    configure_logging_and_warnings(None, sys.argv[1])
    configure_structlog(None)
    from sanic import Sanic
    Sanic("rasa_server")  # installs sanic's own handlers, as `rasa run --enable-api` does
    import structlog, logging
    log = structlog.get_logger()
    for _ in range(50):
        log.error("rest.message.received.timeout", text=sys.argv[2])
    logging.getLogger("sanic.error").error("Exception occurred: %s", "token=" + sys.argv[3])
    # Rasa reading typed "/..." text with an unknown intent warns, quoting the line.
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message
    typed = Message(data={"text": "/" + sys.argv[2].replace(" ", "_")})
    YAMLStoryReader.unpack_regex_message(typed, domain=Domain.from_dict({"intents": ["greet"]}))
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    print("@@" + json.dumps(captured.getvalue()))
    """
)


def test_rasa_server_logging_config_redacts_text_and_bounds_repeats() -> None:
    output = run_in_rasa_venv(
        _RASA_LOGGING, str(RASA_LOGGING_CONFIG), CITIZEN_WORDS, "rasa-secret-42"
    )
    timeouts = [line for line in output.splitlines() if "rest.message.received.timeout" in line]
    assert len(timeouts) == 1, output
    assert '"text": "<27 chars>"' in timeouts[0]
    assert "zorblax" not in output and "rasa-secret-42" not in output
    assert "token=***" in output
    assert "Failed to parse arguments in line '<28 chars>'" in output


_GATEWAY = textwrap.dedent(
    """
    import sys, uvicorn
    from bot.conversation import Conversation
    from bot.gateway import create_app
    from core.logging_setup import configure_logging
    configure_logging()
    conversation = Conversation(
        sys.argv[1], timeout=30, database_url=sys.argv[3], auth_token=sys.argv[4]
    )
    uvicorn.run(create_app(conversation), host="127.0.0.1", port=int(sys.argv[2]))
    """
)


def test_after_forget_me_no_log_holds_the_citizens_words(
    assistant: RunningAssistant, tmp_path: Path
) -> None:
    """A real conversation through the gateway, a Rasa timeout, then "forget me": no log file
    of the gateway, the Rasa server or the action server holds what the citizen wrote."""
    logs = assistant.settings.data_dir / "logs"
    gateway_log = logs / "gateway-hygiene-test.log"
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY_ROOT))
    with gateway_log.open("wb") as log:
        gateway = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _GATEWAY,
                assistant.rasa_url,
                str(port),
                assistant.database_url,
                assistant.rasa_token,
            ],
            cwd=REPOSITORY_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: "Uvicorn running" in gateway_log.read_text(), 60, "the gateway")
        with httpx.Client(base_url=url, timeout=60) as client:
            first = client.post("/api/chat", json={"text": f"I want {CITIZEN_WORDS}"}).json()
            session = first["session_id"]
            client.post("/api/chat", json={"session_id": session, "text": CITIZEN_WORDS})
            # The gateway gives up on Rasa mid-turn (as on a timeout): Rasa logs the timeout.
            rasa_log = logs / "rasa-server.log"

            async def hang_up() -> None:
                async with httpx.AsyncClient(timeout=httpx.Timeout(5, read=0.02)) as impatient:
                    with contextlib.suppress(httpx.TimeoutException):
                        await impatient.post(
                            f"{assistant.rasa_url}{WEBHOOK_PATH}",
                            json={"sender": f"web:{session}", "message": CITIZEN_WORDS * 20},
                            headers={"Authorization": f"Bearer {assistant.rasa_token}"},
                        )

            def timed_out_once_more() -> bool:
                asyncio.run(hang_up())
                return "rest.message.received.timeout" in rasa_log.read_text()

            wait_until(
                timed_out_once_more, 30, "Rasa to log a turn the gateway gave up on", interval=0.5
            )
            forget = client.post("/api/chat", json={"session_id": session, "text": "forget me"})
            payloads = [b["payload"] for r in forget.json()["replies"] for b in r["buttons"]]
            confirm = next((p for p in payloads if "affirm" in p), None)
            if confirm:
                client.post("/api/chat", json={"session_id": session, "payload": confirm})
            else:
                client.post("/api/chat", json={"session_id": session, "text": "yes"})
    finally:
        gateway.terminate()
        gateway.wait(timeout=15)

    log_files = sorted(path for path in logs.glob("*.log") if path.stat().st_size)
    holding = [path.name for path in log_files if "zorblax" in path.read_text(errors="replace")]
    assert {"rasa-server.log", "action-server.log", gateway_log.name} <= {
        p.name for p in log_files
    }, [p.name for p in log_files]
    assert "rest.message.received.timeout" in (logs / "rasa-server.log").read_text()
    assert "erased citizen data on request" in gateway_log.read_text()
    assert holding == []
