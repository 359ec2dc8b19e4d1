"""The persisted index: no rebuild when unchanged, single-item updates, other processes' writes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.search import SearchService
from tests.knowledge.search_support import NEW_COURSE, item_id


def _ids(results) -> list[str]:
    return [result.item.id for result in results]


def test_unchanged_catalog_is_loaded_not_rebuilt(fresh_service, sample_items):
    folder = fresh_service.index_dir
    assert fresh_service.build_count == 1
    again = fresh_service.ensure_index(sample_items)
    assert (again.rebuilt, again.changed, again.unchanged) == (False, 0, len(sample_items))
    assert fresh_service.build_count == 1
    restarted = SearchService(folder)
    summary = restarted.ensure_index(list(reversed(sample_items)))
    assert not summary.rebuilt and summary.changed == 0
    assert restarted.build_count == 0 and restarted.embedded_count == 0
    assert restarted.generation == fresh_service.generation
    assert item_id("courses/tai-chi-morning") in _ids(restarted.search("太极拳"))


def test_changed_item_is_embedded_again_alone_without_rebuild(fresh_service, sample_items):
    generation, embedded = fresh_service.generation, fresh_service.embedded_count
    changed = [replace(sample_items[0], description="Glassblowing for beginners.")]
    summary = fresh_service.ensure_index(changed + sample_items[1:])
    assert (summary.added, summary.updated, summary.removed) == (0, 1, 0)
    assert not summary.rebuilt and fresh_service.build_count == 1
    assert fresh_service.embedded_count == embedded + 1
    assert fresh_service.generation == generation  # journalled, no new generation
    assert _ids(fresh_service.search("glassblowing", limit=1)) == [sample_items[0].id]


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
    # syncing with the original catalog undoes both changes, one item each way
    summary = restarted.ensure_index(sample_items)
    assert (summary.added, summary.updated, summary.removed) == (1, 0, 1)
    assert not summary.rebuilt
    assert item_id("courses/erhu") in _ids(fresh_service.search("二胡", limit=10))


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
        assert ensure_index_from_database().rebuilt
        service = get_search_service()
        assert service.index_dir == tmp_path / "index"
        again = ensure_index_from_database()
        assert not again.rebuilt and again.changed == 0 and again.unchanged > 50
        assert service.build_count == 1
        assert item_id("courses/calligraphy-seniors") in _ids(search("calligraphy", limit=5))
    finally:
        get_settings.cache_clear()
