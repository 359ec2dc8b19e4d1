"""Catalog files uploaded in the console, kept only while they are needed: from the check to
the import (then deleted), or, when never imported, for CONSOLE_UPLOAD_KEEP_HOURS (then swept
away the next time the import page is used). A catalog file can hold organisers' names and
contacts, so it is not kept as a copy of the catalog.

Each upload lives in `<data dir>/uploads/<sha256>/console/<name>`, its column map (if any)
beside it in `<sha256>/map/<its name>`; its key is "<sha256>/<name>".
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import time
from pathlib import Path

from core.settings import get_settings

logger = logging.getLogger(__name__)

_UPLOAD_KEY = re.compile(r"^[0-9a-f]{64}/[\w.\-]{1,100}$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def uploads_dir() -> Path:
    return get_settings().data_dir / "uploads"


def store_upload(
    content: bytes, name: str, column_map: bytes | None = None, map_name: str = "columns.yml"
) -> str:
    """Keep the bytes (and the column map checked with them) under their hash; returns the
    key the import form carries. The map is part of the hash, so the import reads the file
    with exactly the map it was checked with."""
    digest = hashlib.sha256(content)
    if column_map is not None:
        digest.update(b"\0" + map_name.encode() + b"\0" + column_map)
    key = f"{digest.hexdigest()}/{name}"
    path = upload_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if column_map is not None:
        map_file = uploads_dir() / key.split("/", 1)[0] / "map" / map_name
        map_file.parent.mkdir(exist_ok=True)
        map_file.write_bytes(column_map)
    return key


def upload_path(key: str) -> Path:
    digest, name = key.split("/", 1)
    return uploads_dir() / digest / "console" / name


def kept_map(key: str) -> Path | None:
    """The column map checked with upload `key` (kept under its own name), else None."""
    if not _UPLOAD_KEY.match(key):
        return None
    folder = uploads_dir() / key.split("/", 1)[0] / "map"
    found = sorted(folder.iterdir()) if folder.is_dir() else []
    return found[0] if found else None


def kept_upload(key: str) -> Path | None:
    """The file of a well-formed key that is still kept, else None."""
    if not _UPLOAD_KEY.match(key):
        return None
    path = upload_path(key)
    return path if path.is_file() else None


def discard_upload(key: str) -> None:
    """Delete an upload once imported (its whole <sha256> folder)."""
    if _UPLOAD_KEY.match(key):
        shutil.rmtree(uploads_dir() / key.split("/", 1)[0], ignore_errors=True)


def remove_stale_uploads(now: float | None = None) -> int:
    """Delete uploads older than CONSOLE_UPLOAD_KEEP_HOURS; returns how many folders went."""
    root = uploads_dir()
    if not root.is_dir():
        return 0
    oldest = (now or time.time()) - get_settings().console_upload_keep_hours * 3600
    removed = 0
    for folder in root.iterdir():
        if not (folder.is_dir() and _DIGEST.match(folder.name)):
            continue  # not ours: left alone
        if _newest_change(folder) < oldest:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("removed %d console upload(s) older than the keep time", removed)
    return removed


def _newest_change(folder: Path) -> float:
    times = [path.stat().st_mtime for path in folder.rglob("*")]
    return max(times, default=folder.stat().st_mtime)
