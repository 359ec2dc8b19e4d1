"""Call DIET's traced prediction graph directly instead of through `tf.function`'s dispatch.

Runs inside the Rasa server (Python 3.10 venv). Rasa 3.6 predicts with
`RasaModel._rasa_predict`, which calls a `tf.function` traced once with a fixed input
signature. On every call TensorFlow 2.12 then rebuilds a cache key from the ~30 arrays of the
batch, looks the traced graph up, checks and converts each input against the signature and
packs it back into nested lists; for one message that dispatch cost about as much CPU as a
third of running the graph (py-spy under the cluster bench: `_maybe_define_function` and
`canonicalize_function_inputs` were a quarter of DIETClassifier's time, the graph itself half).

`install()` keeps Rasa's first call (which traces the graph) and afterwards converts each input
array to a tensor exactly as TensorFlow's own signature casting does (`convert_to_tensor` with
the signature's dtype as hint), checks it against the signature, and runs the same traced
graph (`ConcreteFunction._call_flat`, what `tf.function` itself calls last). Any input the
signature would refuse goes through Rasa's own path, which raises as before. The outputs are
the same tensors: tests/nlu/test_diet_inference.py compares intents, rankings, entities and
confidences with Rasa's own path on the held-out sentences of every language, to the bit.
"""

from __future__ import annotations

from typing import Any

from nlu.rasa_version import UntestedRasaVersionError, require_tested_rasa

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

import tensorflow as tf  # noqa: E402
from keras.utils import tf_utils  # noqa: E402
from rasa.shared.constants import DIAGNOSTIC_DATA  # noqa: E402
from rasa.utils.tensorflow.models import RasaModel  # noqa: E402
from tensorflow.python.framework import ops  # noqa: E402

# `ConcreteFunction._call_flat` and the signature casting copied here are TensorFlow's own.
TESTED_TENSORFLOW_VERSIONS = frozenset({"2.12.0"})
if tf.__version__ not in TESTED_TENSORFLOW_VERSIONS:
    raise UntestedRasaVersionError(
        f"{__name__} calls TensorFlow internals and was tested only on TensorFlow "
        f"{', '.join(sorted(TESTED_TENSORFLOW_VERSIONS))}, but {tf.__version__} is installed; "
        "run tests/nlu/test_diet_inference.py on it and add it to TESTED_TENSORFLOW_VERSIONS"
    )

_rasa_predict = RasaModel._rasa_predict


class _TracedPrediction:
    """The traced prediction graph of one model and the signature it was traced with."""

    def __init__(self, predict_step: Any) -> None:
        self.graph = predict_step.get_concrete_function()
        self.specs = tuple(tf.nest.flatten(predict_step.input_signature, expand_composites=True))

    def inputs(self, batch_in: Any) -> list[Any] | None:
        """The batch as the signature's tensors, or None when the signature refuses it."""
        if len(batch_in) != len(self.specs):
            return None
        tensors = []
        for value, spec in zip(batch_in, self.specs, strict=True):
            tensor = ops.convert_to_tensor(value, dtype_hint=spec.dtype)
            if not spec.is_compatible_with(tensor):
                return None
            tensors.append(tensor)
        return tensors


def _direct_predict(self: RasaModel, batch_in: Any) -> dict[str, Any]:
    traced = self.__dict__.get("_learncity_traced")
    if traced is None:
        if self._run_eagerly or self._tf_predict_step is None or not self.prepared_for_prediction:
            return _rasa_predict(self, batch_in)  # the first call traces the graph
        traced = self.__dict__["_learncity_traced"] = _TracedPrediction(self._tf_predict_step)
    tensors = traced.inputs(batch_in)
    if tensors is None:
        return _rasa_predict(self, batch_in)
    self._training = False
    outputs = tf_utils.sync_to_numpy_or_python_type(
        traced.graph._call_flat(tensors, captured_inputs=traced.graph.captured_inputs)
    )
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


def install() -> None:
    """Make every Rasa model predict through its traced graph directly once it is traced."""
    if RasaModel._rasa_predict is _direct_predict:
        return
    RasaModel._rasa_predict = _direct_predict  # type: ignore[method-assign]
