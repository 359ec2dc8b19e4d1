"""The planned graph runner parses and predicts exactly what Rasa's dask runner does."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from core.settings import REPOSITORY_ROOT
from nlu.training import model_path, rasa_environment

CHECKS = Path(__file__).with_name("graph_runner_checks.py")
TEXTS = [
    "我想学Python",
    "where can I learn pottery on weekends?",
    "周末有免费的英语课吗",
    "busco clases de español gratis",
    "je viens d'arriver, que faire ?",
    "хочу записаться на курсы",
    "أين المكتبة",
    "what's the weather tomorrow",
    "yes",
    "delete my data",
]


def test_planned_runner_gives_the_same_intents_entities_and_next_actions(assistant) -> None:  # type: ignore[no-untyped-def]
    settings = assistant.settings
    completed = subprocess.run(
        [str(settings.rasa_venv / "bin" / "python"), str(CHECKS), str(model_path(settings))],
        input=json.dumps(TEXTS),
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
        env=rasa_environment(),
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    seen = json.loads(completed.stdout.split("@@", 1)[1])
    assert len(seen["dask"]) == len(TEXTS)
    assert seen["planned"] == seen["dask"]
    print(f"\nper text: dask {seen['dask_ms']:.1f} ms, planned {seen['planned_ms']:.1f} ms")
