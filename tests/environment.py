"""Settings for a block of test code: environment variables set, then put back as they were.

Code under test reads its settings once through `get_settings()` (cached), so a fixture that
points it at a temp data dir or database sets the environment and clears the cache, and must
undo both however the block ends; this does it in one place.

Blocks may end in any order, not only the reverse of how they began: the session's
`assistant` (tests/conftest.py) is often first asked for inside a module's block (the actions'
sample city, tests/actions/conftest.py) and outlives it. Each block is a layer; a variable
always holds the value of the newest block still open that sets it, and the value it had
before any of them once none is left. (Undone in reverse order alone, the module's end took the
assistant's DATABASE_URL away while the assistant still ran, and the assistant's end put back
the module's, for the rest of the session.)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator

from core.settings import Settings, get_settings

_open_layers: list[dict[str, str]] = []  # oldest first
_before_any_layer: dict[str, str | None] = {}  # each variable as it was before a layer set it


@contextlib.contextmanager
def settings_from_environment(overrides: dict[str, str]) -> Iterator[Settings]:
    """`overrides` in os.environ (and a fresh `get_settings()`) inside the block only."""
    layer = dict(overrides)
    for key in layer:
        if not any(key in open_layer for open_layer in _open_layers):
            _before_any_layer[key] = os.environ.get(key)
    _open_layers.append(layer)
    _apply(layer)
    try:
        yield get_settings()
    finally:
        _open_layers[:] = [open_layer for open_layer in _open_layers if open_layer is not layer]
        _apply(layer)


def _apply(keys: Iterable[str]) -> None:
    for key in keys:
        setting = [open_layer[key] for open_layer in _open_layers if key in open_layer]
        if setting:
            os.environ[key] = setting[-1]
            continue
        value = _before_any_layer.pop(key, None)
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()
