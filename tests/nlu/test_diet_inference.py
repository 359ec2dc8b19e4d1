"""DIET through its traced graph reads every held-out sentence exactly as Rasa's own path does."""

from __future__ import annotations

from pathlib import Path

from nlu.nlu_data import HELDOUT_DIR, language_files, read_examples
from nlu.training import model_path
from tests.nlu.rasa_venv import run_in_rasa_venv

CHECKS = Path(__file__).with_name("diet_inference_checks.py")


def test_direct_graph_call_reads_and_predicts_exactly_as_rasa(assistant) -> None:  # type: ignore[no-untyped-def]
    texts = [e.text for path in language_files(HELDOUT_DIR) for e in read_examples(path)]
    settings = assistant.settings
    seen = run_in_rasa_venv(
        CHECKS, str(model_path(settings)), stdin=texts, python=settings.rasa_venv / "bin" / "python"
    )
    print(
        f"\n{len(texts)} held-out texts; DIET CPU per text: Rasa's path "
        f"{seen['rasa_ms']:.2f} ms, traced graph called directly {seen['direct_ms']:.2f} ms"
    )
    assert seen["direct_used"] == [True]
    assert len(seen["rasa"]) == len(texts) > 500
    for rasa_own, direct in zip(seen["rasa"], seen["direct"], strict=True):
        assert direct == rasa_own  # floats compared exactly, as JSON carried them
    languages = {path.stem for path in language_files(HELDOUT_DIR)}
    assert languages == {"ar", "en", "es", "fr", "ru", "uk", "zh"}
    assert len({item["intent"]["name"] for item in seen["rasa"]}) > 10
    assert any(item["entities"] for item in seen["rasa"])
