"""Fixtures for the search tests: the sample city and a real index built over it (real model)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge.documents import CatalogItem, Session

os.environ.setdefault("HF_HUB_OFFLINE", "1")

BASE = "https://learn.hailin.example/"
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
