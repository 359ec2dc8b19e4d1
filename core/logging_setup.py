"""The one logging set-up: plain or JSON lines, with secrets scrubbed from every record."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from core.settings import get_settings

# Bot tokens (123456:ABC-...), bearer tokens and access_token query parameters.
_SECRET_PATTERNS = [
    re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"),
    re.compile(r"(access_token=)[^&\s\"']+"),
    re.compile(r"(secret=)[^&\s\"']+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._-]+"),
]


def scrub_secrets(text: str) -> str:
    """Replace anything shaped like a token or secret with a placeholder."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    for secret in _configured_secrets():
        text = text.replace(secret, "***")
    return text


def _configured_secrets() -> list[str]:
    settings = get_settings()
    values = [
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_webhook_secret.get_secret_value(),
        settings.wechat_token.get_secret_value(),
        settings.wechat_app_secret.get_secret_value(),
        settings.wechat_aes_key.get_secret_value(),
    ]
    return [value for value in values if len(value) >= 6]


class _ScrubbingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_secrets(record.getMessage())
        record.args = ()
        return True


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
        if record.exc_info:
            entry["traceback"] = scrub_secrets(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str | None = None) -> None:
    """Install the project's handler on the root logger (idempotent)."""
    settings = get_settings()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_learncity", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._learncity = True  # type: ignore[attr-defined]
    if settings.learncity_log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_LibraryChatterFilter())
    handler.addFilter(_ScrubbingFilter())
    root.addHandler(handler)
    root.setLevel((level or settings.learncity_log_level).upper())
    # Third-party clients log full URLs (for Telegram they contain the bot token) or chatter.
    noisy_loggers = (
        "httpx", "httpcore", "telegram", "urllib3", "faiss", "sentence_transformers",
        "alembic.runtime.plugins",
    )  # fmt: skip
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)
