"""A second opinion on the intent from the sentence's meaning alone, combined with DIET's.

DIET reads word counts beside the e5 sentence vector, and the counts dominate: a sentence
that shares words with one intent's training examples gets that intent with confidence 0.9-1.0
even when it means something else ("stop all the timers" → unsubscribe_events), and a
request worded away from training in a language with few examples gets a guess. This
component fits a multinomial logistic regression on the e5 sentence vectors of the training
data (out_of_scope included) at train time, and at parse time replaces DIET's ranking by the
weighted geometric mean of the two readings, renormalised:

    p(intent) ∝ p_DIET(intent) ** (1 - weight) * p_meaning(intent) ** weight

When words and meaning agree nothing changes much; when they disagree the confidence drops,
so the FallbackClassifier after it turns the sentence down and the intent guard asks first.
The weight, the regularisation and the fallback threshold were chosen together on validation
data by replaying this rule on the current model's rankings (`python -m nlu.ensemble_replay`,
docs/nlu-evaluation.md has the table).

It reads the dense sentence features the SentenceEmbeddingFeaturizer added, so the sentence
is encoded once. The fitted weights are kept in the model as plain numpy arrays (no pickle).

    - name: nlu.components.meaning_ensemble.MeaningEnsembleClassifier
      weight: 0.5
      regularisation: 1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.intent_combination import combine, softmax

WEIGHTS_FILE = "meaning_weights.npz"
RANKING_LENGTH = 10  # as DIET's own ranking


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class MeaningEnsembleClassifier(GraphComponent, IntentClassifier):
    """Combines DIET's intent ranking with a logistic regression on the sentence vector."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"weight": 0.5, "regularisation": 1.0}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not 0.0 <= float(config["weight"]) <= 1.0:
            raise InvalidConfigException(
                f"config.yml: MeaningEnsembleClassifier weight {config['weight']} is not in 0..1"
            )
        if float(config["regularisation"]) <= 0.0:
            raise InvalidConfigException(
                "config.yml: MeaningEnsembleClassifier regularisation must be above 0"
            )

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        intents: list[str] | None = None,
        coefficients: np.ndarray | None = None,
        intercepts: np.ndarray | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._intents = intents or []
        self._coefficients = coefficients
        self._intercepts = intercepts

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MeaningEnsembleClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MeaningEnsembleClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                stored = np.load(directory / WEIGHTS_FILE)
                intents = [str(i) for i in stored["intents"]]
                return cls(
                    config, model_storage, resource, intents, stored["coef"], stored["intercept"]
                )
        except (ValueError, FileNotFoundError):  # trained on no sentence vectors: DIET alone
            return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the logistic regression on the training sentences' vectors and keep its weights."""
        from sklearn.linear_model import LogisticRegression

        rows, labels = [], []
        for message in training_data.intent_examples:
            vector = sentence_vector(message)
            if vector is not None:
                rows.append(vector)
                labels.append(str(message.get(INTENT)))
        if len(set(labels)) < 2:
            return self._resource
        regression = LogisticRegression(C=float(self._config["regularisation"]), max_iter=2000)
        regression.fit(np.stack(rows), labels)
        coefficients, intercepts = regression.coef_, regression.intercept_
        if len(regression.classes_) == 2:  # sklearn keeps one row for two classes
            coefficients = np.vstack([-coefficients, coefficients]) / 2
            intercepts = np.array([-intercepts[0], intercepts[0]]) / 2
        self._intents = [str(c) for c in regression.classes_]
        self._coefficients, self._intercepts = coefficients, intercepts
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / WEIGHTS_FILE,
                intents=np.array(self._intents),
                coef=coefficients,
                intercept=intercepts,
            )
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            meaning = self.meaning_probabilities(message)
            ranking = message.get(INTENT_RANKING_KEY) or []
            if meaning is None or not ranking:
                continue
            diet = {str(r[INTENT_NAME_KEY]): float(r[PREDICTED_CONFIDENCE_KEY]) for r in ranking}
            combined = combine(diet, meaning, float(self._config["weight"]))
            top = combined[:RANKING_LENGTH]
            message.set(
                INTENT,
                {INTENT_NAME_KEY: top[0][0], PREDICTED_CONFIDENCE_KEY: top[0][1]},
                add_to_output=True,
            )
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: c} for n, c in top],
                add_to_output=True,
            )
        return messages

    def meaning_probabilities(self, message: Message) -> dict[str, float] | None:
        """The logistic regression's probability per intent, or None without a sentence vector."""
        vector = sentence_vector(message)
        if vector is None or self._coefficients is None or self._intercepts is None:
            return None
        return dict(
            zip(self._intents, softmax(self._coefficients @ vector + self._intercepts), strict=True)
        )


def sentence_vector(message: Message) -> np.ndarray | None:
    """The message's dense sentence features (the e5 vector), flattened."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        return None
    return np.asarray(sentence.features, dtype=np.float64).reshape(-1)
