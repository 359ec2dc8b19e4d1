"""How the Rasa server is configured, started and asked: endpoints file, command, `/model/parse`.

Rasa's HTTP API (`/conversations/<id>/tracker`, `trigger_intent`, `/model/parse`, `/status`)
answers only requests carrying `?token=<RASA_AUTH_TOKEN>`; the action server answers only
`Authorization: Bearer <ACTION_SERVER_TOKEN>`, which Rasa sends from the endpoints file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import yaml
from sqlalchemy.engine import make_url

from core.settings import REPOSITORY_ROOT, Settings

CREDENTIALS_FILE = REPOSITORY_ROOT / "nlu" / "credentials.yml"
RASA_LOGGING_CONFIG = REPOSITORY_ROOT / "nlu" / "logging.yml"
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


# Rasa's RedisLockStore with atomic ticket operations (nlu/lock_store.py).
LOCK_STORE_TYPE = "nlu.lock_store.AtomicRedisLockStore"


def lock_store_config(redis_url: str, key_prefix: str) -> dict[str, Any]:
    """Rasa's Redis lock store on REDIS_URL (nlu/lock_store.py): every Rasa server takes a citizen's turns one at a
    time and in order (Rasa's ticket lock), so the gateway may send any turn to any server.

    Rasa wants a host, port and db rather than a URL. The key prefix is passed as it is
    (`learncity:` gives lock keys `learncity:lock:...`); Rasa's own store would drop it."""
    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"REDIS_URL must start with redis:// or rediss://; got {parts.scheme!r}")
    config: dict[str, Any] = {
        "type": LOCK_STORE_TYPE,
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "use_ssl": parts.scheme == "rediss",
    }
    if parts.username:
        config["username"] = unquote(parts.username)
    if parts.password:
        config["password"] = unquote(parts.password)
    if key_prefix:  # as given: nlu/lock_store.py does not drop non-alphanumeric characters
        config["key_prefix"] = key_prefix
    return config


# Rasa takes its API secret only as `--auth-token`, which every local user could read in the
# process list; this launcher adds it from the environment inside the process instead. It is
# one `--auth-token=VALUE` argument: as two, a token starting with "-" (one generated token in
# 64) reads to argparse as an option, and Rasa exits with code 2 before it starts.
RASA_MAIN_CALL = "from rasa.__main__ import main; main()"
#
# The launcher also keeps jax out: TensorFlow 2.12 imports it only for TFLite's converter
# (tensorflow/lite/python/util.py, `try: from jax import ...`), which Rasa never runs, and
# importing it costs a Rasa server ~80 MB (jaxlib's library and jax's modules;
# docs/embedding-models.md). `None` in sys.modules makes that import fail as if absent.
KEEP_JAX_OUT = "import sys; sys.modules['jax'] = None; "
_RASA_LAUNCHER = (
    KEEP_JAX_OUT + "import os, sys; "
    "sys.argv = ['rasa', *sys.argv[1:], '--auth-token=' + os.environ['RASA_AUTH_TOKEN']]; "
    + RASA_MAIN_CALL
)


def rasa_run_command(
    settings: Settings, model: Path, port: int, endpoints: Path | None = None
) -> list[str]:
    """`rasa run` with the HTTP API behind the token, on RASA_INTERFACE; the token goes in the
    environment as RASA_AUTH_TOKEN."""
    python = settings.rasa_venv / "bin" / "python"
    command = [str(python), "-c", _RASA_LAUNCHER, "run", "--enable-api", "--model", str(model)]
    if endpoints is not None:
        command += ["--endpoints", str(endpoints)]
    return command + [
        "--credentials",
        str(CREDENTIALS_FILE),
        "--logging-config-file",  # no citizen text or secrets in its log (core/log_hygiene.py)
        str(RASA_LOGGING_CONFIG),
        "--interface",
        settings.rasa_interface,
        "--port",
        str(port),
    ]


def write_endpoints(
    settings: Settings, action_server_url: str, database_url: str, action_token: str
) -> Path:
    """Write the endpoints file Rasa reads (action server, tracker store, and with REDIS_URL
    the lock store) into the data dir.

    The action server's secret goes in a header (not the URL, which logs would keep)."""
    endpoints: dict[str, Any] = {
        "action_endpoint": {
            "url": action_server_url,
            "headers": {"Authorization": f"Bearer {action_token}"},
        },
        "tracker_store": tracker_store_config(database_url),
    }
    if settings.redis_url:
        endpoints["lock_store"] = lock_store_config(settings.redis_url, settings.redis_key_prefix)
    path = settings.data_dir / "endpoints.yml"
    path.touch(mode=0o600)
    path.chmod(0o600)  # holds the action server's secret, may hold a database password
    path.write_text(
        yaml.dump(endpoints, Dumper=_LiteralDollarDumper, sort_keys=False), encoding="utf-8"
    )
    return path


class _LiteralDollarDumper(yaml.SafeDumper):
    """Rasa expands `${NAME}` in every plain YAML value it reads (rasa.shared.utils.io), so a
    secret or password holding `${` was silently rewritten or stopped Rasa at start; a quoted
    value is taken as written."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "'" if "$" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_LiteralDollarDumper.add_representer(str, _represent_text)


class RasaUnavailableError(RuntimeError):
    """The Rasa server did not answer; callers turn this into a kind reply."""


def parse_text(
    rasa_url: str, text: str, client: httpx.Client | None = None, token: str = ""
) -> dict[str, Any]:
    """Ask a running Rasa server to parse one utterance (`/model/parse`, with its API token)."""
    own_client = client is None
    client = client or httpx.Client(timeout=30)
    try:
        response = client.post(
            f"{rasa_url.rstrip('/')}/model/parse", json={"text": text}, params=_token(token)
        )
        response.raise_for_status()
        return response.json()
    except httpx.HTTPError as error:
        raise RasaUnavailableError(f"Rasa server at {rasa_url} did not parse: {error}") from error
    finally:
        if own_client:
            client.close()


def is_up(url: str, path: str = "/", timeout: float = 2.0, token: str = "") -> bool:
    """True when an HTTP server answers 200 at `url + path` (Rasa's API: with its token)."""
    try:
        response = httpx.get(f"{url.rstrip('/')}{path}", timeout=timeout, params=_token(token))
        return response.status_code == 200
    except httpx.HTTPError:
        return False


def _token(token: str) -> dict[str, str]:
    return {"token": token} if token else {}
