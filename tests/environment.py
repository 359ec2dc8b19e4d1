"""Settings for a block of test code: environment variables set, then put back as they were.

Code under test reads its settings once through `get_settings()` (cached), so a fixture that
points it at a temp data dir or database sets the environment and clears the cache, and must
undo both however the block ends; this does it in one place.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from core.settings import Settings, get_settings


@contextlib.contextmanager
def settings_from_environment(overrides: dict[str, str]) -> Iterator[Settings]:
    """`overrides` in os.environ (and a fresh `get_settings()`) inside the block only."""
    previous = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
