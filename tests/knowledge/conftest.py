"""Fixtures for the knowledge tests (search fixtures live in search_support.py)."""

from tests.knowledge.search_support import (  # noqa: F401 - fixtures made visible to pytest
    fresh_service,
    sample_items,
    sample_service,
)
