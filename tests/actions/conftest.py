"""A real sample-city database and search index in a temp folder, for the action services."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import get_settings


@pytest.fixture(scope="module")
def sample_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bundled sample city imported into a fresh SQLite file, indexed; yields its URL."""
    from bot.bootstrap import prepare_database, prepare_index

    data_dir: Path = tmp_path_factory.mktemp("actions-city")
    database_url = f"sqlite:///{data_dir / 'learncity.db'}"
    overrides = {"LEARNCITY_DATA_DIR": str(data_dir), "DATABASE_URL": database_url}
    previous = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    get_settings.cache_clear()
    try:
        prepare_database(get_settings())
        prepare_index()
        yield database_url
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
