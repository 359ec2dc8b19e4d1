"""The planner dashboard over HTTP: counts by topic, district and language in a date range, the
SVG bars, the CSV export (audited), and nothing personal on the page."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, text

import citizens
import knowledge
import staff
from core.database import session_scope
from tests.admin.console_support import console_app, log_in

NEEDS = [  # (sender, topic, district, language, preferred times)
    ("telegram:1001", "Sign language", "Nanhu", "zh", "weekday evening"),
    ("telegram:1002", "sign language", "Nanhu", "en", "weekend"),
    ("web:3f1c", "古筝", "Dongcheng", "zh", None),
]
UNMET = [("beekeeping", "en", "Xicheng"), ("=HYPERLINK(1)", "en", None), ("潜水", "zh", None)]


@pytest.fixture
async def planner_client(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    app, conversation = console_app(database_url, {"li": "planner", "ana": "organizer"})
    with session_scope(database_url) as session:
        for sender, topic, district, language, times in NEEDS:
            need = citizens.LearningNeed(
                topic=topic, district=district, language=language, preferred_times=times
            )
            citizens.register_learning_need(session, sender, need, consent=True)
        for query, language, district in UNMET:
            knowledge.record_unmet_demand(session, query, language, {}, district)
    # One need registered 90 days ago: outside the default range of the last 30 days.
    old = datetime.now(UTC) - timedelta(days=90)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE learning_needs SET created_at = :old WHERE sender_id = 'web:3f1c'"),
            {"old": old},
        )
    engine.dispose()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, database_url
    await conversation.close()


async def test_the_dashboard_counts_the_last_30_days_by_topic_district_and_language(
    planner_client,
) -> None:
    client, _ = planner_client
    assert (await log_in(client, "li")).status_code == 303

    page = await client.get("/admin/planner")
    assert page.status_code == 200
    html = page.text
    assert 'id="needs-total">2<' in html and 'id="unmet-total">3<' in html
    # One bar per row: needs by topic 1, district 1, language 2, time 3 (weekday, evening,
    # weekend), age group 1 (unknown), week 1; unmet by query 3, district 2, language 2.
    assert html.count("<rect") == 1 + 1 + 2 + 3 + 1 + 1 + 3 + 2 + 2
    assert "<td>weekday</td><td>1</td>" in html and "<td>weekend</td><td>1</td>" in html
    this_week = "{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2])
    assert f"<td>{this_week}</td><td>2</td>" in html
    assert "<td>sign language</td><td>2</td>" in html and "古筝" not in html
    assert "<td>Nanhu</td><td>2</td>" in html and "<td>beekeeping</td><td>1</td>" in html
    for sender, *_ in NEEDS:
        assert sender not in html, "nothing personal on the page"


async def test_a_date_range_includes_older_needs_and_a_bad_one_says_so(planner_client) -> None:
    client, _ = planner_client
    await log_in(client, "li")
    today = datetime.now(UTC).date()
    wide = await client.get(f"/admin/planner?from={today - timedelta(days=120)}&to={today}")
    assert 'id="needs-total">3<' in wide.text and "古筝" in wide.text

    backwards = await client.get(f"/admin/planner?from={today}&to={today - timedelta(days=5)}")
    assert backwards.status_code == 200
    assert "could not be read" in backwards.text and 'id="needs-total">2<' in backwards.text


async def test_the_csv_export_has_every_count_and_is_audited(planner_client) -> None:
    client, url = planner_client
    await log_in(client, "li")
    response = await client.get("/admin/planner.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    found = {(r["section"], r["breakdown"], r["value"]): int(r["count"]) for r in rows}
    assert found[("needs", "total", "")] == 2
    assert found[("needs", "by_topic", "sign language")] == 2
    assert found[("needs", "by_language", "en")] == 1
    assert found[("unmet", "by_query", "'=hyperlink(1)")] == 1, "never read as a formula"
    assert found[("unmet", "by_district", "Xicheng")] == 1
    with session_scope(url) as session:
        latest = staff.audit_entries(session)[0]
    assert (latest.actor, latest.action) == ("li", "export_csv")


async def test_an_organizer_is_refused_the_dashboard_and_its_export(planner_client) -> None:
    client, _ = planner_client
    await log_in(client, "ana")
    assert (await client.get("/admin/planner")).status_code == 403
    assert (await client.get("/admin/planner.csv")).status_code == 403


async def test_the_open_data_export_leaves_out_every_count_under_five(database_url) -> None:
    app, conversation = console_app(database_url, {"li": "planner"})
    with session_scope(database_url) as session:
        for number in range(6):
            need = citizens.LearningNeed(topic="sign language", district="Nanhu", language="zh")
            citizens.register_learning_need(session, f"web:{number}", need, consent=True)
        for topic, district in (("my neighbour Wang's tutoring", "Beishan"), ("古筝", "Nanhu")):
            need = citizens.LearningNeed(topic=topic, district=district, language="en")
            citizens.register_learning_need(session, "web:rare", need, consent=True)
        knowledge.record_unmet_demand(session, "beekeeping", "en", {}, None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "li")
        response = await client.get("/admin/planner-open-data.csv")
    await conversation.close()

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    published = {(r["section"], r["breakdown"], r["value"]): r["count"] for r in rows}
    assert published == {
        ("needs", "total", ""): "8",
        ("needs", "by_topic", "sign language"): "6",
        ("needs", "by_topic", "(fewer than 5 each)"): "<5",
        ("needs", "by_district", "Nanhu"): "7",
        ("needs", "by_district", "(fewer than 5 each)"): "<5",
        ("needs", "by_language", "zh"): "6",
        ("needs", "by_language", "(fewer than 5 each)"): "<5",
        ("needs", "by_time", "unknown"): "8",
        ("needs", "by_age_group", "unknown"): "8",
        ("needs", "by_week", "{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2])): "8",
        ("unmet", "total", ""): "<5",
        ("unmet", "by_query", "(fewer than 5 each)"): "<5",
        ("unmet", "by_district", "(fewer than 5 each)"): "<5",
        ("unmet", "by_language", "(fewer than 5 each)"): "<5",
    }
    assert "Wang" not in response.text and "beekeeping" not in response.text
