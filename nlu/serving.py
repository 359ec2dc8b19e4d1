"""How the Rasa server is configured and asked: endpoints file, webhook URL, `/model/parse`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy.engine import make_url

from core.settings import REPOSITORY_ROOT, Settings

CREDENTIALS_FILE = REPOSITORY_ROOT / "nlu" / "credentials.yml"
WEBHOOK_PATH = "/webhooks/learncity/webhook"


# Rasa's SQL tracker store that keeps each conversation in memory between its turns, checked
# against the database on every read and write (nlu/tracker_store.py).
TRACKER_STORE_TYPE = "nlu.tracker_store.CachingSQLTrackerStore"


def tracker_store_config(database_url: str) -> dict[str, Any]:
    """Rasa's SQL tracker store pointed at the project's own database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return {
            "type": TRACKER_STORE_TYPE,
            "dialect": "sqlite",
            "db": str(Path(url.database or "").resolve()),
        }
    config: dict[str, Any] = {
        "type": TRACKER_STORE_TYPE,
        "dialect": url.get_backend_name(),
        "url": url.host or "127.0.0.1",
        "db": url.database,
    }
    if url.port:
        config["port"] = url.port
    if url.username:
        config["username"] = url.username
    if url.password:
        config["password"] = url.password
    return config


def write_endpoints(settings: Settings, action_server_url: str, database_url: str) -> Path:
    """Write the endpoints file Rasa reads (action server + tracker store) into the data dir."""
    endpoints = {
        "action_endpoint": {"url": action_server_url},
        "tracker_store": tracker_store_config(database_url),
    }
    path = settings.data_dir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)  # may hold a database password
    return path


class RasaUnavailableError(RuntimeError):
    """The Rasa server did not answer; callers turn this into a kind reply."""


def parse_text(rasa_url: str, text: str, client: httpx.Client | None = None) -> dict[str, Any]:
    """Ask a running Rasa server to parse one utterance (`/model/parse`)."""
    own_client = client is None
    client = client or httpx.Client(timeout=30)
    try:
        response = client.post(f"{rasa_url.rstrip('/')}/model/parse", json={"text": text})
        response.raise_for_status()
        return response.json()
    except httpx.HTTPError as error:
        raise RasaUnavailableError(f"Rasa server at {rasa_url} did not parse: {error}") from error
    finally:
        if own_client:
            client.close()


def is_up(url: str, path: str = "/", timeout: float = 2.0) -> bool:
    """True when an HTTP server answers 200 at `url + path`."""
    try:
        return httpx.get(f"{url.rstrip('/')}{path}", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
