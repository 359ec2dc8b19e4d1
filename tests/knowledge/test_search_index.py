"""The persisted index: no rebuild when unchanged, single-item updates, other processes' writes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.documents import CatalogItem, Session
from knowledge.search import SearchService
from tests.knowledge.search_support import item_id

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


def _ids(results) -> list[str]:
    return [result.item.id for result in results]


def test_unchanged_catalog_is_loaded_not_rebuilt(fresh_service, sample_items):
    folder = fresh_service.index_dir
    assert fresh_service.build_count == 1
    assert fresh_service.ensure_index(sample_items) is False
    assert fresh_service.build_count == 1
    restarted = SearchService(folder)
    assert restarted.ensure_index(list(reversed(sample_items))) is False
    assert restarted.build_count == 0
    assert restarted.fingerprint == fresh_service.fingerprint
    assert item_id("courses/tai-chi-morning") in _ids(restarted.search("太极拳"))


def test_changed_item_changes_the_fingerprint_and_rebuilds(fresh_service, sample_items):
    before = fresh_service.fingerprint
    changed = [replace(sample_items[0], description="changed")] + sample_items[1:]
    assert fresh_service.ensure_index(changed) is True
    assert fresh_service.fingerprint != before
    assert fresh_service.build_count == 2


def test_upsert_is_searchable_at_once_without_rebuild(fresh_service):
    assert not any(r.matched for r in fresh_service.search("beekeeping"))
    fresh_service.upsert(NEW_COURSE)
    assert _ids(fresh_service.search("beekeeping"))[0] == NEW_COURSE.id
    assert _ids(fresh_service.search("养蜂"))[0] == NEW_COURSE.id
    assert fresh_service.build_count == 1


def test_update_replaces_the_old_version_and_remove_takes_it_out(fresh_service):
    fresh_service.upsert(NEW_COURSE)
    renamed = replace(NEW_COURSE, name="Rooftop Honey Club", description="Hives on the roof.")
    fresh_service.upsert(renamed)
    results = fresh_service.search("honey club", limit=5)
    assert _ids(results).count(NEW_COURSE.id) == 1
    assert results[0].item.name == "Rooftop Honey Club"
    assert fresh_service.remove(NEW_COURSE.id) is True
    assert NEW_COURSE.id not in _ids(fresh_service.search("honey club", limit=10))
    assert fresh_service.remove(NEW_COURSE.id) is False
    assert fresh_service.build_count == 1


def test_single_item_changes_are_persisted_and_seen_by_other_services(fresh_service, sample_items):
    other = SearchService(fresh_service.index_dir)  # stands for another process on the same folder
    assert other.load()
    fresh_service.upsert(NEW_COURSE)
    assert _ids(other.search("beekeeping"))[0] == NEW_COURSE.id
    other.remove(item_id("courses/erhu"))
    assert item_id("courses/erhu") not in _ids(fresh_service.search("二胡", limit=10))
    restarted = SearchService(fresh_service.index_dir)
    assert restarted.load()
    assert _ids(restarted.search("beekeeping"))[0] == NEW_COURSE.id
    assert item_id("courses/erhu") not in _ids(restarted.search("二胡", limit=10))
    # the journal's changes count: the original catalog no longer matches what is indexed
    assert restarted.ensure_index(sample_items) is True


def test_running_service_reloads_after_another_process_rebuilds(fresh_service, sample_items):
    other = SearchService(fresh_service.index_dir)
    other.build(sample_items + [NEW_COURSE])
    assert _ids(fresh_service.search("beekeeping"))[0] == NEW_COURSE.id
    assert fresh_service.generation == other.generation


def test_index_is_built_from_the_database_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from core.database import session_scope, upgrade_database
    from core.settings import get_settings
    from knowledge import ensure_index_from_database, get_search_service, import_catalog, search

    monkeypatch.setenv("LEARNCITY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'catalog.db'}")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        upgrade_database(settings.sqlalchemy_url)
        with session_scope(settings.sqlalchemy_url) as session:
            import_catalog(settings.learncity_catalog_path, session=session)
        assert ensure_index_from_database() is True
        service = get_search_service()
        assert service.index_dir == tmp_path / "index"
        assert ensure_index_from_database() is False
        assert service.build_count == 1
        assert item_id("courses/calligraphy-seniors") in _ids(search("calligraphy", limit=5))
    finally:
        get_settings.cache_clear()
