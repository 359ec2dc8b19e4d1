"""Writes an ONNX model (the protobuf bytes onnxruntime loads) without the `onnx` package.

The Rasa venv has onnxruntime but not `onnx` (whose protobuf pin would fight Rasa's), and
`core.e5_onnx` only needs a handful of message types: a model, a graph, nodes with int, float
and int-list attributes, raw-data initializers and typed inputs/outputs. Field numbers are
those of onnx.proto (ONNX 1.x); tests/core/test_e5_onnx.py reads the result back with the
`onnx` package of the app venv and runs its checker, so a slip here fails a test.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

IR_VERSION = 8  # read by onnxruntime 1.23 (Rasa's Python 3.10) and 1.32 (the app) alike
FLOAT, UINT8, INT64 = 1, 2, 7  # TensorProto.DataType
_ELEMENT_TYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.uint8): UINT8, np.dtype(np.int64): INT64}
_ATTRIBUTE_FLOAT, _ATTRIBUTE_INT, _ATTRIBUTE_INTS = 1, 2, 7  # AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # int64 fields: negative numbers in two's complement
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _integer(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _message(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _text(field: int, value: str) -> bytes:
    return _message(field, value.encode())


def tensor(name: str, array: np.ndarray) -> bytes:
    """A TensorProto with raw little-endian data."""
    array = np.ascontiguousarray(array)
    dims = b"".join(_integer(1, size) for size in array.shape)
    kind = _ELEMENT_TYPES[array.dtype]
    return (
        dims
        + _integer(2, kind)
        + _text(8, name)
        + _message(9, array.astype(array.dtype.newbyteorder("<")).tobytes())
    )


def node(
    op_type: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    *,
    domain: str = "",
    **attributes: int | float | Sequence[int],
) -> bytes:
    """A NodeProto; attribute values are ints, floats or lists of ints."""
    body = b"".join(_text(1, name) for name in inputs)
    body += b"".join(_text(2, name) for name in outputs)
    body += _text(3, f"{op_type}_{outputs[0]}") + _text(4, op_type)
    for name, value in attributes.items():
        if isinstance(value, float):
            encoded = _varint(2 << 3 | 5) + struct.pack("<f", value)
            encoded += _integer(20, _ATTRIBUTE_FLOAT)
        elif isinstance(value, int):
            encoded = _integer(3, value) + _integer(20, _ATTRIBUTE_INT)
        else:
            encoded = b"".join(_integer(8, item) for item in value)
            encoded += _integer(20, _ATTRIBUTE_INTS)
        body += _message(5, _text(1, name) + encoded)
    if domain:
        body += _text(7, domain)
    return body


def value_info(name: str, element_type: int, dims: Sequence[int | str]) -> bytes:
    """A ValueInfoProto: a tensor input or output, dims as numbers or symbolic names."""
    shape = b"".join(
        _message(1, _text(2, dim) if isinstance(dim, str) else _integer(1, dim)) for dim in dims
    )
    tensor_type = _integer(1, element_type) + _message(2, shape)
    return _text(1, name) + _message(2, _message(1, tensor_type))


def model(
    nodes: Sequence[bytes],
    initializers: Sequence[bytes],
    inputs: Sequence[bytes],
    outputs: Sequence[bytes],
    opsets: dict[str, int],
    *,
    name: str,
) -> bytes:
    """A ModelProto with one graph."""
    graph = b"".join(_message(1, item) for item in nodes) + _text(2, name)
    graph += b"".join(_message(5, item) for item in initializers)
    graph += b"".join(_message(11, item) for item in inputs)
    graph += b"".join(_message(12, item) for item in outputs)
    imports = b"".join(
        _message(8, (_text(1, domain) if domain else b"") + _integer(2, version))
        for domain, version in opsets.items()
    )
    return _integer(1, IR_VERSION) + _text(2, "learncity") + _message(7, graph) + imports
