"""The planned graph runner parses and predicts exactly what Rasa's dask runner does."""

from __future__ import annotations

from pathlib import Path

from nlu.training import model_path
from tests.nlu.rasa_venv import run_in_rasa_venv

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
    seen = run_in_rasa_venv(
        CHECKS, str(model_path(settings)), stdin=TEXTS, python=settings.rasa_venv / "bin" / "python"
    )
    assert len(seen["dask"]) == len(TEXTS)
    assert seen["planned"] == seen["dask"]
    print(f"\nper text: dask {seen['dask_ms']:.1f} ms, planned {seen['planned_ms']:.1f} ms")
