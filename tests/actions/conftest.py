"""A real sample-city database and search index in a temp folder, for the action services.

Built once per session (importing and embedding the catalog took ~5 s of CPU a time, once
per module before), then pointed at by each module that asks for it. The action services
only read it, but for unmet searches recorded under a sender of the test's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from core.settings import get_settings
from tests.environment import settings_from_environment

TUESDAY = "2026-12-01"  # this weekend: Sat 5 - Sun 6 December; next: 12-13 December


def _city_settings(data_dir: Path) -> dict[str, str]:
    return {
        "LEARNCITY_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'learncity.db'}",
    }


@pytest.fixture(scope="session")
def sample_city_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample city imported into a fresh SQLite file and indexed, once."""
    from bot.bootstrap import prepare_database, prepare_index

    data_dir = tmp_path_factory.mktemp("actions-city")
    with settings_from_environment(_city_settings(data_dir)) as settings:
        prepare_database(settings)
        prepare_index()
    return data_dir


@pytest.fixture(scope="module")
def sample_city(sample_city_folder: Path) -> Iterator[str]:
    """The sample city's settings for this module's tests; yields its database URL."""
    overrides = _city_settings(sample_city_folder)
    with settings_from_environment(overrides):
        yield overrides["DATABASE_URL"]


@pytest.fixture
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> Iterator[date]:
    """Today pinned to Tuesday 1 December 2026 with LEARNCITY_TODAY, as an operator sets it."""
    monkeypatch.setenv("LEARNCITY_TODAY", TUESDAY)
    get_settings.cache_clear()
    yield date.fromisoformat(TUESDAY)
    monkeypatch.delenv("LEARNCITY_TODAY")
    get_settings.cache_clear()
