"""The dashboard's counts kept per day (staff/rollups.py, bot/admin/rollup_counts.py): for any
range, the sum of kept days and raw edge days equals one raw count over the range, on SQLite
and PostgreSQL; "forget me" drops the citizen's days (with their words) and the dashboard
shows the erasure at once, even with counts kept for an hour."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text

import citizens
import knowledge
from bench.dashboard_seed import (
    random_conversations,
    random_needs_and_unmet,
    write_conversations,
    write_needs_and_unmet,
)
from bot.admin import rollup_counts
from bot.admin.counts_cache import CountsCache
from bot.admin.rollup_counts import SETTLED, counter, summed_counts
from core.database import session_scope, upgrade_database
from core.grouped_counts import iso_week
from core.settings import get_settings
from staff.rollups import PlannerDayRecord, erasure_generation
from tests.admin.console_support import console_app, log_in

SOURCES = ("needs", "unmet", "conversations")
CITY_OFFSET = timedelta(hours=8)  # hours of the day and weeks are the city's
DAYS = 20


@pytest.fixture
def seeded(database_url: str) -> str:
    """Three weeks of conversations, needs and unmet searches, up to a minute ago."""
    upgrade_database(database_url)
    engine = create_engine(database_url)
    write_conversations(engine, random_conversations(4000, days=DAYS, seed=5))
    needs, unmet = random_needs_and_unmet(800, 800, days=DAYS, seed=6)
    write_needs_and_unmet(engine, needs, unmet)
    engine.dispose()
    return database_url


def _raw(database_url: str, source: str, first: date, last: date) -> dict[str, Any]:
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    with session_scope(database_url) as session:
        return counter(source)(
            session, since, since + timedelta(days=(last - first).days + 1), CITY_OFFSET
        )


def _comparable(counts: dict[str, Any]) -> dict[str, Any]:
    """Counts with the unmet questions' rows as a mapping (their order is not a count)."""
    found = dict(counts)
    if "queries" in found:
        found["queries"] = {(text, language): n for text, language, n in found["queries"]}
    return found


def _ranges(today: date) -> list[tuple[date, date]]:
    """Edge ranges (one day, today alone, before any data, past today) and random ones."""
    rng = random.Random(31)
    start = today - timedelta(days=DAYS + 2)
    ranges = [
        (today, today),
        (today - timedelta(days=1), today),
        (start - timedelta(days=10), start),
        (today - timedelta(days=5), today - timedelta(days=5)),
        (start, today + timedelta(days=3)),
    ]
    for _ in range(8):
        first = start + timedelta(days=rng.randrange(DAYS + 2))
        ranges.append((first, first + timedelta(days=rng.randrange(DAYS))))
    return ranges


def test_kept_days_add_up_to_the_raw_count_for_any_range(seeded: str) -> None:
    today = datetime.now(UTC).date()
    for source in SOURCES:
        for first, last in _ranges(today):
            raw = _comparable(_raw(seeded, source, first, last))
            # The first call counts and keeps settled days; the second reads them back.
            for attempt in ("keeping", "kept"):
                summed = _comparable(summed_counts(seeded, source, first, last, CITY_OFFSET))
                assert summed == raw, (source, first, last, attempt)
    last_settled = (datetime.now(UTC) - SETTLED).date() - timedelta(days=1)
    with session_scope(seeded) as session:
        kept = set(session.execute(select(PlannerDayRecord.source, PlannerDayRecord.day)))
    assert {("needs", last_settled), ("conversations", last_settled)} <= kept
    assert not [day for _, day in kept if day > last_settled], "unsettled days are never kept"


def test_a_long_range_keeps_a_bounded_number_of_days_per_view_and_stays_exact(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollup_counts, "KEPT_PER_VIEW", 5)
    today = datetime.now(UTC).date()
    first = today - timedelta(days=DAYS + 5)
    raw = _comparable(_raw(seeded, "needs", first, today))
    for views in (1, 2):
        summed = _comparable(summed_counts(seeded, "needs", first, today, CITY_OFFSET))
        assert summed == raw
        with session_scope(seeded) as session:
            kept = session.scalars(select(PlannerDayRecord.day)).all()
        assert len(kept) == 5 * views
        assert max(kept) == (datetime.now(UTC) - SETTLED).date() - timedelta(days=1)


def test_forget_me_drops_the_citizens_days_with_their_words_and_counts_stay_exact(
    seeded: str,
) -> None:
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=DAYS), today
    sender, words = "telegram:forget-me", "underwater basket weaving"
    asked_on = datetime.now(UTC) - timedelta(days=4)
    with session_scope(seeded) as session:
        knowledge.record_unmet_demand(session, words, "en", {}, None, sender_id=sender)
        citizens.register_learning_need(
            session, sender, citizens.LearningNeed(topic="origami"), consent=True
        )
    engine = create_engine(seeded)
    with engine.begin() as connection:
        for table in ("unmet_demand", "learning_needs"):
            connection.execute(
                text(f"UPDATE {table} SET created_at = :at WHERE sender_id = :sender"),
                {"at": asked_on, "sender": sender},
            )
    engine.dispose()
    for source in SOURCES:
        summed_counts(seeded, source, first, last, CITY_OFFSET)
    with session_scope(seeded) as session:
        assert words in " ".join(session.scalars(select(PlannerDayRecord.counts)))
        before = erasure_generation(session)
        citizens.erase_citizen(session, sender)
    with session_scope(seeded) as session:
        assert words not in " ".join(session.scalars(select(PlannerDayRecord.counts)))
        assert erasure_generation(session) == before + 1
    for source in SOURCES:
        summed = _comparable(summed_counts(seeded, source, first, last, CITY_OFFSET))
        assert summed == _comparable(_raw(seeded, source, first, last)), source
    unmet = summed_counts(seeded, "unmet", first, last, CITY_OFFSET)
    assert words not in unmet["by_query"]


async def test_a_forget_me_shows_at_once_on_a_dashboard_kept_for_an_hour(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANNER_CACHE_SECONDS", "3600")
    get_settings.cache_clear()
    app, conversation = console_app(database_url, {"li": "planner"})
    need = citizens.LearningNeed(topic="pottery", district="Nanhu", language="en")
    with session_scope(database_url) as session:
        for sender in ("web:1", "web:2"):
            citizens.register_learning_need(session, sender, need, consent=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "li")
        before = await client.get("/admin/planner")
        with session_scope(database_url) as session:  # as the gateway's "forget me" does
            citizens.erase_citizen(session, "web:1")
        after = await client.get("/admin/planner")
    await conversation.close()
    get_settings.cache_clear()

    def needs_total(page: httpx.Response) -> str:
        found = re.search(r'id="needs-total">(\d+)<', page.text)
        assert found is not None
        return found.group(1)

    assert (needs_total(before), needs_total(after)) == ("2", "1")


def _citizens_per_cell(rows: list[dict], since: datetime, until: datetime) -> dict[str, Any]:
    """The oracle: different senders per cell, straight from the generated rows in range."""
    cells: dict[str, dict[str, set[Any]]] = {}
    everyone: set[Any] = set()
    for row in rows:
        if not since <= row["created_at"] < until:
            continue
        everyone.add(row["sender_id"])
        found = {
            "by_district": [row["district"] or "unknown"],
            "by_language": [row["language"] or "unknown"],
            "by_week": [iso_week(row["created_at"].astimezone(UTC).date())],
        }
        if "topic" in row:
            found["by_topic"] = [row["topic"].lower()]
            found["by_time"] = (row["preferred_times"] or "unknown").split()
            found["by_age_group"] = [row["age_group"] or "unknown"]
        for breakdown, keys in found.items():
            for key in keys:
                cells.setdefault(breakdown, {}).setdefault(key, set()).add(row["sender_id"])
    counted: dict[str, Any] = {
        breakdown: {key: len(who) for key, who in by_key.items()}
        for breakdown, by_key in cells.items()
    }
    counted["total"] = len(everyone)
    return counted


def test_open_data_counts_each_citizen_once_per_cell_exactly(
    database_url: str,
) -> None:
    """Open data leaves out cells under 5 citizens, so the number of different citizens per
    cell must be exact: checked against the generated rows themselves, for several ranges,
    with a search recorded before senders were kept (no sender: one citizen together)."""
    needs, unmet = random_needs_and_unmet(900, 900, days=DAYS, seed=8)
    unmet[0] |= {"sender_id": None, "district": None, "language": None}
    upgrade_database(database_url)
    engine = create_engine(database_url)
    write_needs_and_unmet(engine, needs, unmet)
    engine.dispose()
    today = datetime.now(UTC).date()
    for first, last in _ranges(today)[:6]:
        since = datetime(first.year, first.month, first.day, tzinfo=UTC)
        until = since + timedelta(days=(last - first).days + 1)
        with session_scope(database_url) as session:
            found_needs = citizens.needs_summary(session, since, until, citizens=True)
            found_unmet = knowledge.unmet_demand_summary(session, since, until, citizens=True)
        wanted_needs = _citizens_per_cell(needs, since, until)
        wanted_unmet = _citizens_per_cell(unmet, since, until)
        assert {key: found_needs.get(key, {}) for key in wanted_needs} == wanted_needs
        assert {key: found_unmet.get(key, {}) for key in wanted_unmet} == wanted_unmet


def test_clearing_the_kept_counts_forgets_every_range() -> None:
    """What the dashboard does when the number of erasures changed: counts kept in memory
    may hold a forgotten citizen's words, so none of them stays."""
    cache = CountsCache(3600)
    cache.get("november", lambda: {"by_query": {"underwater basket weaving": 1}})
    cache.clear()
    assert cache.get("november", lambda: "counted again").value == "counted again"
