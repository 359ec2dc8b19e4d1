"""Fixtures for the search tests: the sample city and a real index built over it (real model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import knowledge
from core.database import session_scope, upgrade_database
from knowledge.catalog import all_items
from knowledge.documents import CatalogItem, Session
from knowledge.importers import CsvReading, load_column_map

os.environ.setdefault("HF_HUB_OFFLINE", "1")

BASE = "https://learn.hailin.example/"
REPOSITORY = Path(__file__).resolve().parents[2]
# A course the sample city does not have, for tests that add one.
NEW_COURSE = CatalogItem(
    id="https://learn.hailin.example/courses/beekeeping",
    type="course",
    name="城市养蜂入门 / Urban Beekeeping",
    description="在屋顶养蜂：蜂箱、采蜜和安全。 Rooftop hives, honey and safety.",
    topics=("beekeeping", "养蜂"),
    district="Beishan",
    free=True,
    latitude=31.29,
    longitude=121.46,
    sessions=(Session("Sat 10:00-12:00", ("saturday",), "10:00", "12:00"),),
)


def item_id(short: str) -> str:
    return short if "@" in short else BASE + short


@pytest.fixture(scope="session")
def sample_items() -> list[CatalogItem]:
    from bench.search_catalog import sample_city_items

    items = sample_city_items()
    assert len(items) > 50, "the sample city should be there"
    return items


@pytest.fixture(scope="session")
def sample_service(sample_items: list[CatalogItem], tmp_path_factory: pytest.TempPathFactory):
    """A search service over the sample city, shared by read-only tests."""
    from knowledge.search import SearchService

    service = SearchService(tmp_path_factory.mktemp("index"))
    assert service.ensure_index(sample_items).rebuilt
    return service


@pytest.fixture
def fresh_service(sample_items: list[CatalogItem], tmp_path: Path):
    """A service over its own index folder, for tests that change the index."""
    from knowledge.search import SearchService

    service = SearchService(tmp_path / "index")
    service.ensure_index(sample_items)
    return service


def learncity_search(arguments: list[str], data_dir: Path, **settings: str) -> dict[str, Any]:
    """`learncity search ARGUMENTS --json` in a fresh process over the sample city (imported
    into `data_dir` on first use), with extra settings; its JSON answer."""
    environment = {
        **os.environ,
        "LEARNCITY_DATA_DIR": str(data_dir),
        "LEARNCITY_MODELS_DIR": str(REPOSITORY / ".data" / "models"),
        "HF_HUB_OFFLINE": "1",
        **settings,
    }
    environment.pop("DATABASE_URL", None)
    finished = subprocess.run(
        [sys.executable, "-m", "bot.cli", "search", *arguments, "--json"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def import_with_column_map(
    folder: Path, catalog: Path, column_map: Path, times: int = 1
) -> tuple[list[Any], list[Any]]:
    """`catalog` imported `times` times with its column map into a fresh SQLite file in
    `folder`, through the real importer; each import's summary and the stored items."""
    url = f"sqlite:///{folder / 'catalog.db'}"
    upgrade_database(url)
    reading = CsvReading(columns=load_column_map(column_map))
    summaries = []
    for _ in range(times):
        with session_scope(url) as session:
            summaries.append(knowledge.import_catalog(catalog, session=session, reading=reading))
    with session_scope(url) as session:
        return summaries, all_items(session)
