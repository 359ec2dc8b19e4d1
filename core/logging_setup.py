"""The one logging set-up: plain or JSON lines, secrets scrubbed and citizen text redacted.

Every record passes `core.log_hygiene.HygieneFilter` (secrets, citizen words, repeated errors),
whichever logger wrote it: the filter sits on the root handler and on the loggers of libraries
that bring their own handlers (uvicorn, sanic), so their tracebacks are scrubbed too.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from core.log_hygiene import HygieneFilter, configured_secrets
from core.log_hygiene import scrub_secrets as _scrub_with
from core.settings import get_settings

# Loggers that install handlers of their own (uvicorn's default config, sanic's app) or that
# carry URLs with tokens and request details: each gets the filter at the logger too.
ROUTED_LOGGERS = (
    "uvicorn", "uvicorn.error", "uvicorn.access", "sanic.root", "sanic.error", "sanic.access",
    "sanic.server", "sanic.websockets", "rasa", "rasa_sdk", "httpx", "httpcore", "telegram",
    "telegram.ext", "starlette",
)  # fmt: skip


def scrub_secrets(text: str) -> str:
    """Replace anything shaped like a token or secret with a placeholder."""
    return _scrub_with(text, _configured_secrets())


def _configured_secrets() -> list[str]:
    settings = get_settings()
    return configured_secrets(
        [
            settings.telegram_bot_token.get_secret_value(),
            settings.telegram_webhook_secret.get_secret_value(),
            settings.wechat_token.get_secret_value(),
            settings.wechat_app_secret.get_secret_value(),
            settings.wechat_aes_key.get_secret_value(),
            *(
                secret.get_secret_value()
                for name in ("rasa_auth_token", "action_server_token")
                if (secret := getattr(settings, name, None)) is not None
            ),
        ]
    )


class _LibraryChatterFilter(logging.Filter):
    """Drop the lines onnxruntime's quantizer writes on the root logger (hundreds per export,
    one per tensor, and advice for model authors); its errors still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name == "root"
            and record.levelno <= logging.WARNING
            and "onnxruntime" in record.pathname
        )


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("sender", "channel", "event"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info or record.exc_text:
            # The hygiene filter has already formatted, scrubbed and redacted it.
            entry["traceback"] = record.exc_text or scrub_secrets(
                self.formatException(record.exc_info)  # type: ignore[arg-type]
            )
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str | None = None) -> None:
    """Install the project's handler on the root logger, and the filter everywhere (idempotent)."""
    settings = get_settings()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_learncity", False):
            root.removeHandler(handler)
    hygiene = HygieneFilter(_configured_secrets(), settings.learncity_log_repeat_seconds)
    handler = logging.StreamHandler(sys.stderr)
    handler._learncity = True  # type: ignore[attr-defined]
    if settings.learncity_log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_LibraryChatterFilter())
    handler.addFilter(hygiene)
    root.addHandler(handler)
    root.setLevel((level or settings.learncity_log_level).upper())
    for name in ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        for old in [f for f in routed.filters if isinstance(f, HygieneFilter)]:
            routed.removeFilter(old)
        routed.addFilter(hygiene)
    # Third-party clients log full URLs (for Telegram they contain the bot token) or chatter.
    noisy_loggers = (
        "httpx", "httpcore", "telegram", "urllib3", "faiss", "sentence_transformers",
        "alembic.runtime.plugins",
    )  # fmt: skip
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)
