"""Train the Rasa model in its own Python 3.10 venv, cached by a hash of the training inputs."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from core.packaged_models import VECTOR_PACKAGES
from core.settings import REPOSITORY_ROOT, Settings

logger = logging.getLogger(__name__)

CONFIG_FILE = REPOSITORY_ROOT / "config.yml"
DOMAIN_DIR = REPOSITORY_ROOT / "nlu" / "domain"
DATA_DIR = REPOSITORY_ROOT / "nlu" / "data"
COMPONENTS_DIR = REPOSITORY_ROOT / "nlu" / "components"
RASA_VERSION = "3.6.21"
# The model loader the sentence featurizer runs on and the e5 engine behind it (they decide
# the vectors DIET learns from).
MODEL_LOADERS = [
    REPOSITORY_ROOT / "core" / name
    for name in ("packaged_models.py", "e5_onnx.py", "e5_weights.py", "onnx_writer.py")
]


class TrainingError(RuntimeError):
    """Rasa training failed; the message names the log file to read."""


def training_inputs() -> list[Path]:
    """Every file whose change means the model must be retrained, in a stable order."""
    # The modules the server loads at run time (nlu/rasa_channel.py, nlu/tracker_store.py, …)
    # are not in the model: changing them needs a restart, not a retrain.
    # A component module counts only when config.yml names it: a new component that is not in
    # the pipeline yet must not retrain every model. Data files beside them always count.
    files = [CONFIG_FILE]
    used_components = _components_named_in_config()
    if "sentence_featurizer" in used_components:
        files.extend(MODEL_LOADERS)
    for folder in (DOMAIN_DIR, DATA_DIR, COMPONENTS_DIR):
        if not folder.exists():
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if (
                folder == COMPONENTS_DIR
                and path.suffix == ".py"
                and path.stem not in used_components
            ):
                continue
            files.append(path)
    return files


def _components_named_in_config() -> set[str]:
    """Module names of the custom components the pipeline uses (`nlu.components.<module>.<Class>`)."""
    text = CONFIG_FILE.read_text(encoding="utf-8") if CONFIG_FILE.exists() else ""
    return set(re.findall(r"nlu\.components\.(\w+)\.", text)) | {"__init__"}


def inputs_hash(rasa_venv: Path | None = None) -> str:
    """A short hash of the training inputs (names and contents), the Rasa version and the
    versions of the packages that ship the pipeline's embedding models (a new release of the
    model package gives other vectors, so the classifier trained on the old ones is stale)."""
    digest = hashlib.sha256(RASA_VERSION.encode())
    for path in training_inputs():
        digest.update(str(path.relative_to(REPOSITORY_ROOT)).encode())
        digest.update(path.read_bytes())
    for package in model_package_versions(rasa_venv or Settings().rasa_venv):
        digest.update(package.encode())
    return digest.hexdigest()[:16]


def model_package_versions(rasa_venv: Path) -> list[str]:
    """`name-version` of each model package the pipeline's sentence featurizer names, as
    installed in the Rasa venv (from its dist-info folder; "name-missing" when absent)."""
    text = CONFIG_FILE.read_text(encoding="utf-8") if CONFIG_FILE.exists() else ""
    if "SentenceEmbeddingFeaturizer" not in text:
        return []
    found = []
    for model in sorted(set(re.findall(r"^\s*model:\s*([\w.-]+)", text, flags=re.MULTILINE))):
        for package in VECTOR_PACKAGES.get(model, ()):
            wheel_name = package.replace("-", "_")
            infos = sorted(rasa_venv.glob(f"lib/python*/site-packages/{wheel_name}-*.dist-info"))
            found.append(
                infos[-1].name.removesuffix(".dist-info") if infos else f"{package}-missing"
            )
    return found


def model_path(settings: Settings) -> Path:
    return settings.models_dir / f"learncity-{inputs_hash(settings.rasa_venv)}.tar.gz"


def rasa_executable(settings: Settings) -> Path:
    executable = settings.rasa_venv / "bin" / "rasa"
    if not executable.exists():
        raise TrainingError(
            f"Rasa is not installed at {executable}; run `make setup` (it creates the Python 3.10 venv)"
        )
    return executable


def rasa_environment() -> dict[str, str]:
    """Environment for Rasa processes: our custom components importable, no telemetry, quiet TF."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPOSITORY_ROOT)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.pop("DATABASE_URL", None)  # Rasa reads the tracker store from endpoints.yml only
    return env


def ensure_model(settings: Settings, *, force: bool = False) -> Path:
    """Return the trained model for the current inputs, training it first if needed.

    Several processes asking for the same model (parallel test runs, `learncity run` beside
    a test) train it once: the others wait on a lock file and then find it trained.
    """
    target = model_path(settings)
    if target.exists() and not force:
        logger.info("Rasa model is up to date: %s", target.name)
        return target
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    with _training_lock(settings.models_dir / f".{target.name}.lock"):
        if target.exists() and not force:
            logger.info("Rasa model was trained meanwhile by another process: %s", target.name)
            return target
        return _train(settings, target)


@contextlib.contextmanager
def _training_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("another process is training this model; waiting for it (%s)", path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _train(settings: Settings, target: Path) -> Path:
    log_file = settings.data_dir / "logs" / "rasa-train.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(rasa_executable(settings)),
        "train",
        "--config",
        str(CONFIG_FILE),
        "--domain",
        str(DOMAIN_DIR),
        "--data",
        str(DATA_DIR),
        "--out",
        str(settings.models_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
        "--force",
    ]
    logger.info("training the Rasa model (inputs changed); log: %s", log_file)
    started = time.monotonic()
    with log_file.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            cwd=REPOSITORY_ROOT,
            env=rasa_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if _is_progress_line(line):
                print(f"  rasa: {line.strip()[:160]}", file=sys.stderr, flush=True)
        returncode = process.wait()
    if returncode != 0 or not target.exists():
        raise TrainingError(f"Rasa training failed (exit {returncode}); see {log_file}")
    logger.info("trained %s in %.1f s", target.name, time.monotonic() - started)
    _remove_old_models(settings, keep=target)
    return target


def _is_progress_line(line: str) -> bool:
    markers = (
        "Starting to train component",
        "Finished training component",
        "Your Rasa model",
        "Error",
        "error:",
        "InvalidDomain",
        "YamlSyntax",
    )
    return any(marker in line for marker in markers)


def _remove_old_models(settings: Settings, keep: Path, keep_count: int = 5) -> None:
    models = sorted(settings.models_dir.glob("learncity-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in models[:-keep_count]:
        if old != keep:
            old.unlink(missing_ok=True)
