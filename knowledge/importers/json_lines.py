"""Which line each node of a JSON-LD document starts on, so a rejection names a line to open.

`json.loads` keeps no positions; this walks the same text with `JSONDecoder.raw_decode`, value
by value, in the order `jsonld._nodes` lists the nodes (an `@graph`, a top-level list whose
entries may hold their own `@graph`, or one object). It runs only when a file has a rejection.
"""

from __future__ import annotations

import bisect
import json
import re

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def node_lines(content: str) -> list[int]:
    """The line (from 1) each node starts on; [] when the text is not shaped as expected."""
    newlines = [match.start() for match in re.finditer("\n", content)]
    try:
        starts = _node_starts(content, _skip(content, 0))
    except (ValueError, IndexError):
        return []
    return [bisect.bisect_left(newlines, start) + 1 for start in starts]


def _node_starts(content: str, position: int) -> list[int]:
    if content[position] == "{":
        graph = _member(content, position, "@graph")
        if graph is None:
            return [position]
        return _elements(content, graph) if content[graph] == "[" else [graph]
    if content[position] == "[":
        starts: list[int] = []
        for element in _elements(content, position):
            has_graph = content[element] == "{" and _member(content, element, "@graph") is not None
            starts.extend(_node_starts(content, element) if has_graph else [element])
        return starts
    return [position]


def _elements(content: str, position: int) -> list[int]:
    """Where each element of the array opening at `position` starts."""
    starts: list[int] = []
    position = _skip(content, position + 1)
    if content[position] == "]":
        return starts
    while True:
        starts.append(position)
        _value, end = _DECODER.raw_decode(content, position)
        position = _skip(content, end)
        if content[position] == "]":
            return starts
        position = _skip(content, _expect(content, position, ",") + 1)


def _member(content: str, position: int, name: str) -> int | None:
    """Where the value of member `name` of the object opening at `position` starts."""
    position = _skip(content, position + 1)
    if content[position] == "}":
        return None
    while True:
        key, end = _DECODER.raw_decode(content, position)
        position = _skip(content, _expect(content, _skip(content, end), ":") + 1)
        if key == name:
            return position
        _value, end = _DECODER.raw_decode(content, position)
        position = _skip(content, end)
        if content[position] == "}":
            return None
        position = _skip(content, _expect(content, position, ",") + 1)


def _expect(content: str, position: int, character: str) -> int:
    if content[position] != character:
        raise ValueError(f"expected {character!r} at {position}")
    return position


def _skip(content: str, position: int) -> int:
    match = _SPACE.match(content, position)
    return match.end() if match else position
