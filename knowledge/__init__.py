"""The catalog of learning offers (courses, learning spaces, events): storage, importers, search.

Other packages use these names only, never the tables.
"""

import logging as _logging

# faiss's loader logs each instruction set it tries at INFO ("Could not load library with AVX512
# support due to: ModuleNotFoundError…", six lines in the action server's log on every start).
# Set here, before `knowledge.search` imports faiss, in every process that searches.
if _logging.getLogger().getEffectiveLevel() > _logging.DEBUG:
    _logging.getLogger("faiss.loader").setLevel(_logging.WARNING)

from knowledge.catalog import UpsertCounts as UpsertCounts
from knowledge.catalog import all_items as all_items
from knowledge.catalog import catalog_fingerprint as catalog_fingerprint
from knowledge.catalog import content_hashes as content_hashes
from knowledge.catalog import count_items as count_items
from knowledge.catalog import get_item as get_item
from knowledge.catalog import items_by_ids as items_by_ids
from knowledge.catalog import query_as_counted as query_as_counted
from knowledge.catalog import record_unmet_demand as record_unmet_demand
from knowledge.catalog import unmet_citizens_summary as unmet_citizens_summary
from knowledge.catalog import unmet_demand_summary as unmet_demand_summary
from knowledge.catalog import upsert_items as upsert_items
from knowledge.catalog_import import EDITABLE_FIELDS as EDITABLE_FIELDS
from knowledge.catalog_import import ImportRecord as ImportRecord
from knowledge.catalog_import import ImportSummary as ImportSummary
from knowledge.catalog_import import ItemEditRejected as ItemEditRejected
from knowledge.catalog_import import ItemNotFound as ItemNotFound
from knowledge.catalog_import import edit_item as edit_item
from knowledge.catalog_import import editable_values as editable_values
from knowledge.catalog_import import import_catalog as import_catalog
from knowledge.catalog_import import import_history as import_history
from knowledge.citizen_data import unmet_searches_of as unmet_searches_of
from knowledge.documents import CatalogItem as CatalogItem
from knowledge.documents import Session as Session
from knowledge.importers.common import Rejection as Rejection
from knowledge.item_editing import SESSION_FIELDS as SESSION_FIELDS
from knowledge.item_editing import edit_item_sessions as edit_item_sessions
from knowledge.item_editing import remove_item as remove_item
from knowledge.item_editing import session_values as session_values
from knowledge.search import DATED_KINDS as DATED_KINDS
from knowledge.search import KIND_TYPES as KIND_TYPES
from knowledge.search import NEAR_RADII_M as NEAR_RADII_M
from knowledge.search import IndexSync as IndexSync
from knowledge.search import Note as Note
from knowledge.search import SearchAnswer as SearchAnswer
from knowledge.search import SearchFilters as SearchFilters
from knowledge.search import SearchRequest as SearchRequest
from knowledge.search import SearchResult as SearchResult
from knowledge.search import SearchService as SearchService
from knowledge.search import answer_search as answer_search
from knowledge.search import build_index_from_database as build_index_from_database
from knowledge.search import city_calendar as city_calendar
from knowledge.search import ensure_index_from_database as ensure_index_from_database
from knowledge.search import get_search_service as get_search_service
from knowledge.search import happening_within as happening_within
from knowledge.search import is_unmet as is_unmet
from knowledge.search import names_a_topic as names_a_topic
from knowledge.search import nearby as nearby
from knowledge.search import resolve_when as resolve_when
from knowledge.search import search as search
from knowledge.search import upcoming_events as upcoming_events
from knowledge.unmet_groups import UnmetGroup as UnmetGroup
from knowledge.unmet_groups import citizens_per_group as citizens_per_group
from knowledge.unmet_groups import group_unmet_demand as group_unmet_demand
