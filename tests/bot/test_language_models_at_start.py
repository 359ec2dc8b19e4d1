"""The gateway loads its language models when it starts, not in a citizen's turn."""

from __future__ import annotations

import json
import subprocess
import sys

from core.settings import REPOSITORY_ROOT

# A fresh process: in this one another test may have loaded the models already.
_STARTED_GATEWAY = """
import json
from starlette.testclient import TestClient
from bot.conversation import Conversation
from bot.gateway import create_app
from nlu import language

loaded = lambda: [language._latin_detector.cache_info().currsize,
                  language._cyrillic_detector.cache_info().currsize]
before = loaded()
app = create_app(Conversation("http://127.0.0.1:9"))
with TestClient(app):
    started = loaded()
print("@@" + json.dumps({"before": before, "started": started}))
"""


def test_gateway_start_loads_the_language_models_before_any_turn() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _STARTED_GATEWAY],
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    seen = json.loads(completed.stdout.split("@@", 1)[1])
    assert seen == {"before": [0, 0], "started": [1, 1]}
