"""Rasa reads back from endpoints.yml exactly the secrets the supervisor wrote there.

Rasa's YAML reader expands `${NAME}` in plain values; an operator's action-server token or
database password holding `${` came back rewritten (`ab${HOME}cd` -> `ab/rootcd`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from nlu.serving import write_endpoints
from tests.nlu.rasa_venv import run_in_rasa_venv

_READ_LIKE_RASA = """
import json, sys
from rasa.utils.endpoints import read_endpoint_config
path = sys.argv[1]
action = read_endpoint_config(path, "action_endpoint")
tracker = read_endpoint_config(path, "tracker_store")
print("@@" + json.dumps({"authorization": action.headers["Authorization"],
                         "password": tracker.kwargs.get("password"),
                         "port": tracker.kwargs.get("port")}))
"""


@pytest.mark.parametrize(
    ("token", "password"),
    [
        ("ab${HOME}cd", "pa$$word"),
        ("${NOT_SET_ANYWHERE}", "p${USER}w"),
        ("plain-token_0123456789", "plain"),
    ],
)
def test_rasa_reads_the_secrets_as_written(tmp_path: Path, token: str, password: str) -> None:
    settings = Settings(learncity_data_dir=tmp_path)
    database_url = f"postgresql+psycopg://learncity:{password}@127.0.0.1:5433/test"
    path = write_endpoints(settings, "http://127.0.0.1:5055/webhook", database_url, token)
    read = run_in_rasa_venv(_READ_LIKE_RASA, str(path))
    assert read == {"authorization": f"Bearer {token}", "password": password, "port": 5433}
