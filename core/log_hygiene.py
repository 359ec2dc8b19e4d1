"""What every process's logs may hold: no secrets, no words a citizen wrote, no error floods.

Standard library only: the Rasa server runs on its own Python 3.10 venv and loads this module
from `nlu/logging.yml`; the gateway and the action server use it through
`core.logging_setup.configure_logging`. One `HygieneFilter` instance per process sits on the
root handler and on the loggers that bring their own handlers (uvicorn, sanic), so no line
reaches a file or a terminal without passing it.

Why: after "forget me" a citizen's words must be gone, but Rasa's REST channel logged
`{"text": …}` on every timeout (up to 1 MB a line), uvicorn's tracebacks skipped the secret
scrubber, and a Bot API outage wrote 20 MB of identical tracebacks in 6 minutes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Iterable

# Bot tokens (123456:ABC-...), bearer tokens, access_token / secret query parameters.
_SECRET_PATTERNS = [
    re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"),
    re.compile(r"(access_token=)[^&\s\"']+"),
    re.compile(r"(secret=)[^&\s\"']+", re.IGNORECASE),
    re.compile(r"\b(token=)[^&\s\"']+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._-]+"),
]

# Environment variables holding secrets, read when no settings object is at hand (Rasa side).
SECRET_VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "WECHAT_TOKEN",
    "WECHAT_APP_SECRET",
    "WECHAT_AES_KEY",
    "RASA_AUTH_TOKEN",
    "ACTION_SERVER_TOKEN",
)

# Keys whose values are what a citizen wrote (or what was said back to them): Rasa's own list
# of anonymizable structlog keys (rasa/utils/log_utils.py), plus the gateway's field names.
CITIZEN_TEXT_KEYS = frozenset(
    {
        "text", "response_text", "user_text", "slot_values", "parse_data_text",
        "parse_data_entities", "prediction_events", "tracker_latest_message", "prefilled_slots",
        "message", "response", "slot_candidates", "rasa_event", "rasa_events", "tracker_states",
        "current_states", "old_states", "successes", "current_entity", "next_entity", "states",
        "entity", "token_text", "user_message", "json_message", "payload", "content",
        "recognition", "entities", "metadata", "latest_message", "events",
    }
)  # fmt: skip

# `text='…'`, `"text": "…"` and `'message': '…'` inside reprs, dicts and tracebacks.
_QUOTED_FIELD = re.compile(
    r"""(?P<key>\b(?:text|message|payload|content|recognition|user_message|user_text)
        ['"]?\s*[=:]\s*)
        (?P<quote>['"])(?P<value>(?:\\.|(?!(?P=quote)).)*)(?P=quote)""",
    re.VERBOSE | re.DOTALL,
)

# Rasa's warning for a typed "/..." it cannot parse quotes the whole line the citizen wrote;
# SQLAlchemy's errors list the bound parameters (tracker events hold the citizen's words).
_QUOTED_LINE = re.compile(
    r"(?P<key>\bin line ')(?P<value>.*?)(?P<end>'\.)|(?P<key2>\bbut found )(?P<value2>.*?)"
    r"(?P<end2>\.Continuing)",
    re.DOTALL,
)
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")

DEFAULT_REPEAT_WINDOW_SECONDS = 60.0
_MAX_SIGNATURES = 2048


def scrub_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace anything shaped like a token, and every configured secret, with `***`."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def size_of(value: object) -> str:
    """What a log may say instead of a citizen's words: how long they were."""
    if isinstance(value, str):
        return f"<{len(value)} chars>"
    if isinstance(value, list | dict):
        return f"<{len(value)} items>"
    return "<redacted>"


def redact_citizen_text(message: str) -> str:
    """Drop citizen words from one log message, keeping the event and the sizes.

    A whole-JSON message (Rasa's structlog lines) has its citizen keys replaced by sizes;
    anything else has quoted `text=`/`"text":` fields inside it replaced the same way.
    """
    stripped = message.lstrip()
    if stripped.startswith("{"):
        try:
            entry = json.loads(stripped)
        except ValueError:
            entry = None
        if isinstance(entry, dict):
            redacted = {
                key: size_of(value) if key in CITIZEN_TEXT_KEYS and value else value
                for key, value in entry.items()
            }
            return json.dumps(redacted, ensure_ascii=False, default=str)
    message = _SQL_PARAMETERS.sub("[parameters: hidden]", message)
    message = _QUOTED_LINE.sub(_sized_line, message)
    return _QUOTED_FIELD.sub(
        lambda m: m.group("key") + m.group("quote") + f"<{len(m.group('value'))} chars>"
        + m.group("quote"),
        message,
    )  # fmt: skip


def _sized_line(match: re.Match[str]) -> str:
    suffix = "" if match.group("key") else "2"
    value = match.group("value" + suffix)
    return match.group("key" + suffix) + f"<{len(value)} chars>" + match.group("end" + suffix)


def configured_secrets(values: Iterable[str] | None = None) -> list[str]:
    """Secrets worth replacing (six characters or more); from the environment by default."""
    if values is None:
        values = (os.environ.get(name, "") for name in SECRET_VARIABLES)
    return [value for value in values if len(value) >= 6]


class HygieneFilter(logging.Filter):
    """Scrubs secrets, redacts citizen text (message and traceback) and rate-limits repeats.

    A warning or error with the same signature (logger, level, message template, exception type
    and where it was raised) passes at most once per `repeat_window` seconds; the next one that
    passes says how many were suppressed in between. Each record is handled once, however many
    loggers and handlers it passes on its way up.
    """

    def __init__(
        self,
        secrets: Iterable[str] | None = None,
        repeat_window: float | str | None = None,
        name: str = "",
        capture_warnings: bool = False,
    ) -> None:
        super().__init__(name)
        if capture_warnings:  # `warnings.warn` text (Rasa's runtime warnings) becomes log records
            logging.captureWarnings(True)
        self.secrets = configured_secrets(None if secrets is None else list(secrets))
        if repeat_window is None:  # the Rasa side has no settings object: its environment
            repeat_window = os.environ.get(
                "LEARNCITY_LOG_REPEAT_SECONDS", DEFAULT_REPEAT_WINDOW_SECONDS
            )
        self.repeat_window = float(repeat_window)
        self._seen: OrderedDict[tuple[object, ...], list[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = getattr(record, "_learncity_hygiene", None)
        if verdict is not None:
            return bool(verdict)
        suppressed = self._repeats_suppressed(record)
        self._report_quiet_repeats()
        if suppressed is None:
            record._learncity_hygiene = False  # type: ignore[attr-defined]
            return False
        self._clean(record)
        if suppressed:
            record.msg = f"{record.msg} [{suppressed} similar messages suppressed]"
        record._learncity_hygiene = True  # type: ignore[attr-defined]
        return True

    def clean_text(self, text: str) -> str:
        return redact_citizen_text(scrub_secrets(text, self.secrets))

    def _clean(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        cleaned = self.clean_text(message)
        if cleaned != message:
            self._replace_message(record, cleaned)
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.clean_text(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean_text(record.stack_info)

    def _replace_message(self, record: logging.LogRecord, cleaned: str) -> None:
        """Clean the arguments one by one where that gives the same text, so formatters that
        read `record.args` (uvicorn's access log) keep working; else keep the cleaned text."""
        if isinstance(record.msg, str) and isinstance(record.args, tuple) and record.args:
            args = tuple(self.clean_text(a) if isinstance(a, str) else a for a in record.args)
            msg = self.clean_text(record.msg)
            try:
                if msg % args == cleaned:
                    record.msg, record.args = msg, args
                    return
            except (TypeError, ValueError):
                pass
        record.msg, record.args = cleaned, ()

    def _report_quiet_repeats(self) -> None:
        """Once a storm is over (its window passed with no new line written), say how many
        were suppressed, so the count is not lost when the errors simply stop. Runs on the
        next record of any kind, at most once a second."""
        now = time.monotonic()
        if self.repeat_window <= 0 or now - self._last_sweep < 1.0:
            return
        self._last_sweep = now
        with self._lock:
            due = [
                (key, entry[1])
                for key, entry in self._seen.items()
                if entry[1] and now - entry[0] >= self.repeat_window
            ]
            for key, _ in due:
                self._seen[key][1] = 0
        for key, count in due:
            name, level, template = key[0], key[1], key[2]
            logging.getLogger(str(name)).log(
                int(level),  # type: ignore[call-overload]
                "%d more like this were suppressed (at most one per %.0f s): %s",
                count,
                self.repeat_window,
                template,
                extra={"_learncity_summary": True},
            )

    def _repeats_suppressed(self, record: logging.LogRecord) -> int | None:
        """None to drop the record; else how many like it were dropped since the last one."""
        if record.levelno < logging.WARNING or self.repeat_window <= 0:
            return 0
        if getattr(record, "_learncity_summary", False):
            return 0
        key = _signature(record)
        now = time.monotonic()
        with self._lock:
            entry = self._seen.get(key)
            if entry is not None and now - entry[0] < self.repeat_window:
                entry[1] += 1
                return None
            suppressed = int(entry[1]) if entry is not None else 0
            self._seen[key] = [now, 0]
            self._seen.move_to_end(key)
            while len(self._seen) > _MAX_SIGNATURES:
                self._seen.popitem(last=False)
        return suppressed


def _signature(record: logging.LogRecord) -> tuple[object, ...]:
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    if template.lstrip().startswith("{"):  # Rasa's structlog JSON: the event names the line
        try:
            template = str(json.loads(template).get("event", "")) or template[:80]
        except (ValueError, AttributeError):
            template = template[:80]
    where: tuple[object, ...] = ()
    if record.exc_info and record.exc_info[0] is not None:
        frames = traceback.extract_tb(record.exc_info[2]) if record.exc_info[2] else []
        last = frames[-1] if frames else None
        where = (
            record.exc_info[0].__name__,
            last.filename if last else "",
            last.lineno if last else 0,
        )
    return (record.name, record.levelno, template, record.pathname, record.lineno, *where)
