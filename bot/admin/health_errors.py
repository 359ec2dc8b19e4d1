"""The last errors, for the admins' health page: from the gateway itself (kept in memory as they
are logged) and from the log files the supervisor writes for Rasa and the action server
(`<data dir>/logs/*.log`, read from their last 256 KB only).

Secrets are scrubbed as the log handler scrubs them; citizens' words never reach the logs
(docs/edge-and-logs.md), so nothing personal is shown.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.logging_setup import scrub_secrets

TAIL_BYTES = 256 * 1024
MESSAGE_CHARS = 400
KEPT = 20
# "2026-12-01 18:02:11,512 ERROR name: message" (ours and Rasa's text logs).
_TEXT_LINE = re.compile(
    r"^(?P<at>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})[,.\d]*\s+(?P<level>ERROR|CRITICAL)\s+(?P<rest>.*)$"
)


@dataclass(frozen=True)
class LoggedError:
    at: str  # "YYYY-MM-DD HH:MM:SS" as the log wrote it (UTC for the gateway's own)
    where: str  # "gateway" or the log file's name
    message: str
    order: float = 0.0  # for sorting: seconds since the epoch, to the gateway's microsecond


class GatewayErrors(logging.Handler):
    """Keeps the gateway's last ERROR records; attached to the root logger by `install`."""

    def __init__(self, kept: int = KEPT) -> None:
        super().__init__(level=logging.ERROR)
        self._records: deque[LoggedError] = deque(maxlen=kept)
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = scrub_secrets(f"{record.name}: {record.getMessage()}")[:MESSAGE_CHARS]
        except Exception:  # a record that cannot be formatted is not worth failing the caller
            return
        at = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        with self._lock_records:
            self._records.append(LoggedError(at, "gateway", message, record.created))

    def recent(self) -> list[LoggedError]:
        with self._lock_records:
            return list(self._records)

    @classmethod
    def install(cls) -> GatewayErrors:
        """The root logger's recorder, added once per process."""
        root = logging.getLogger()
        for handler in root.handlers:
            if isinstance(handler, cls):
                return handler
        recorder = cls()
        root.addHandler(recorder)
        return recorder


def last_errors(
    log_dir: Path, gateway: GatewayErrors | None, limit: int = KEPT
) -> list[LoggedError]:
    """The newest `limit` errors of the gateway and of every log file in `log_dir`."""
    found = list(gateway.recent()) if gateway is not None else []
    for log_file in sorted(log_dir.glob("*.log")) if log_dir.is_dir() else []:
        found.extend(_errors_in(log_file))
    found.sort(key=lambda error: error.order, reverse=True)
    return found[:limit]


def _errors_in(log_file: Path) -> list[LoggedError]:
    try:
        with log_file.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    errors = []
    for line in tail.splitlines():
        error = _parsed(line, log_file.name)
        if error is not None:
            errors.append(error)
    return errors


def _parsed(line: str, where: str) -> LoggedError | None:
    matched = _TEXT_LINE.match(line)
    if matched:
        at = matched.group("at").replace("T", " ")
        message = scrub_secrets(matched.group("rest"))[:MESSAGE_CHARS]
        return LoggedError(at, where, message, _seconds(at))
    if line.startswith("{") and ('"ERROR"' in line or '"CRITICAL"' in line):
        try:
            record = json.loads(line)
        except ValueError:
            return None
        if isinstance(record, dict) and record.get("level") in ("ERROR", "CRITICAL"):
            message = f"{record.get('logger', '')}: {record.get('message', '')}"
            at = str(record.get("time", ""))[:19].replace("T", " ")
            return LoggedError(at, where, scrub_secrets(message)[:MESSAGE_CHARS], _seconds(at))
    return None


def _seconds(at: str) -> float:
    """'YYYY-MM-DD HH:MM:SS' (UTC) as seconds since the epoch; 0 when unreadable."""
    try:
        return datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return 0.0
