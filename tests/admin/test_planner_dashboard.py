"""The planner dashboard over HTTP: counts by topic, district and language in a date range,
totals of use from Rasa's conversation events, unmet demand grouped across languages and typos
with a drill-down, the SVG bars, the CSV exports (audited), and nothing personal on the page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

import citizens
import knowledge
import staff
from bench.dashboard_seed import Conversation, write_conversations
from core.database import session_scope, upgrade_database
from tests.admin.console_support import console_app, log_in, logged_in

NEEDS = [  # (sender, topic, district, language, preferred times)
    ("telegram:1001", "Sign language", "Nanhu", "zh", "weekday evening"),
    ("telegram:1002", "sign language", "Nanhu", "en", "weekend"),
    ("web:3f1c", "古筝", "Dongcheng", "zh", None),
]
UNMET = [
    ("beekeeping", "en", "Xicheng"),
    ("=HYPERLINK(1)", "en", None),
    ("潜水", "zh", None),
    ("library", "en", None),
    ("libary", "en", None),
    ("مكتبة", "ar", None),
    ("библиотеки", "ru", "Nanhu"),
]
NOW = datetime.now(UTC)
CONVERSATIONS = [  # two citizens, three sessions, 6 turns of which 4 searched
    Conversation("telegram:1001", NOW - timedelta(hours=3), turns=2, searches=2),
    Conversation("telegram:1001", NOW - timedelta(days=2), turns=1, searches=0),
    Conversation("web:3f1c", NOW - timedelta(hours=1), turns=3, searches=2),
    Conversation("web:3f1c", NOW - timedelta(days=60), turns=5, searches=5),  # out of range
]


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
    write_conversations(engine, CONVERSATIONS)
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
    assert 'id="needs-total">2<' in html and 'id="unmet-total">7<' in html
    assert 'id="citizens-total">2<' in html and 'id="conversations-total">3<' in html
    # 4 searches, 7 of them unmet: more unmet than searches reads as none answered.
    assert 'id="searches-total">4<' in html and 'id="answered-share">0%<' in html
    assert "<td>weekday</td><td>1</td>" in html and "<td>weekend</td><td>1</td>" in html
    this_week = "{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2])
    assert f"<td>{this_week}</td><td>2</td>" in html
    assert "<td>sign language</td><td>2</td>" in html and "古筝" not in html
    assert "<td>Nanhu</td><td>2</td>" in html
    # Library in four languages and a typo is one row; the other questions one row each.
    groups = re.findall(
        r"group=([^&]+)&amp;.*?</a></td>\s*<td>([^<]*)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>",
        html,
        re.S,
    )
    assert sorted(groups) == sorted(
        [
            ("concept%3Alibrary", "English, Arabic, Russian", "4", "4"),
            ("words%3Abeekeeping", "English", "1", "1"),
            ("words%3A%3Dhyperlink%281%29", "English", "1", "1"),
            ("words%3A%E6%BD%9C%E6%B0%B4", "Chinese", "1", "1"),
        ]
    )
    hours_chart = re.search(r'id="conversations-conversations_by_hour".*?</svg>', html, re.S)
    assert hours_chart and hours_chart.group(0).count("<rect") >= 1
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
    upgrade_database(database_url)
    with session_scope(database_url) as session:
        for number in range(6):
            need = citizens.LearningNeed(topic="sign language", district="Nanhu", language="zh")
            citizens.register_learning_need(session, f"web:{number}", need, consent=True)
        for topic, district in (("my neighbour Wang's tutoring", "Beishan"), ("古筝", "Nanhu")):
            need = citizens.LearningNeed(topic=topic, district=district, language="en")
            citizens.register_learning_need(session, "web:rare", need, consent=True)
        knowledge.record_unmet_demand(session, "beekeeping", "en", {}, None)

    csv_text, rows = await _open_data(database_url)
    published = {(r["section"], r["breakdown"], r["value"]): r["count"] for r in rows}
    # Needs are counted as different citizens: web:rare's two needs are one citizen.
    this_week = "{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2])
    assert published == {
        ("conversations", "total", "citizens"): "<5",
        ("conversations", "total", "conversations"): "<5",
        ("conversations", "total", "searches"): "<5",
        ("needs", "total", ""): "7",
        ("needs", "by_topic", "sign language"): "6",
        ("needs", "by_topic", "(fewer than 5 each)"): "<5",
        ("needs", "by_district", "Nanhu"): "7",
        ("needs", "by_district", "(fewer than 5 each)"): "<5",
        ("needs", "by_language", "zh"): "6",
        ("needs", "by_language", "(fewer than 5 each)"): "<5",
        ("needs", "by_time", "unknown"): "7",
        ("needs", "by_age_group", "unknown"): "7",
        ("needs", "by_week", this_week): "7",
        ("unmet", "total", ""): "<5",
        ("unmet", "by_query", "(fewer than 5 each)"): "<5",
        ("unmet", "by_district", "(fewer than 5 each)"): "<5",
        ("unmet", "by_language", "(fewer than 5 each)"): "<5",
        ("unmet", "by_week", "(fewer than 5 each)"): "<5",
        ("unmet", "by_group", "(fewer than 5 each)"): "<5",
    }
    assert "Wang" not in csv_text and "beekeeping" not in csv_text


async def _open_data(database_url: str) -> tuple[str, list[dict[str, str]]]:
    """The open-data CSV a planner downloads: its text and its rows."""
    async with logged_in(database_url, {"li": "planner"}, "li") as client:
        response = await client.get("/admin/planner-open-data.csv")
    assert response.status_code == 200
    return response.text, list(csv.DictReader(io.StringIO(response.text)))


async def _open_data_section(database_url: str, section: str) -> tuple[str, dict]:
    """The open-data CSV a planner downloads, and one section's {(breakdown, value): count}."""
    published, rows = await _open_data(database_url)
    return published, {
        (r["breakdown"], r["value"]): r["count"] for r in rows if r["section"] == section
    }


async def test_open_data_counts_unmet_searches_as_citizens_not_searches(database_url) -> None:
    """One citizen asking for beekeeping six times (two spellings) is one citizen: left out;
    five citizens asking for pottery once each are published."""
    upgrade_database(database_url)
    with session_scope(database_url) as session:
        for spelling in ("beekeeping", "Beekeeping", "beekeping") * 2:
            knowledge.record_unmet_demand(session, spelling, "en", {}, "Xicheng", "web:keen")
        for number in range(5):
            knowledge.record_unmet_demand(session, "pottery", "en", {}, "Nanhu", f"web:{number}")

    published, unmet = await _open_data_section(database_url, "unmet")
    this_week = "{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2])
    assert unmet == {
        ("total", ""): "6",
        ("by_query", "pottery"): "5",
        ("by_query", "(fewer than 5 each)"): "<5",
        ("by_district", "Nanhu"): "5",
        ("by_district", "(fewer than 5 each)"): "<5",
        ("by_language", "en"): "6",
        ("by_week", this_week): "6",
        ("by_group", "pottery"): "5",
        ("by_group", "(fewer than 5 each)"): "<5",
    }
    assert "beekeeping" not in published.lower()


async def test_open_data_counts_a_citizen_once_per_topic_whatever_the_case(database_url) -> None:
    """web:keen registered "Pottery" and "pottery": one citizen of five, not six."""
    upgrade_database(database_url)
    with session_scope(database_url) as session:
        for sender, topic in [(f"web:{n}", "pottery") for n in range(4)] + [
            ("web:keen", "Pottery"),
            ("web:keen", "pottery"),
        ]:
            need = citizens.LearningNeed(topic=topic, district="Nanhu", language="zh")
            citizens.register_learning_need(session, sender, need, consent=True)

    _, needs = await _open_data_section(database_url, "needs")
    assert needs[("total", "")] == "5"
    assert needs[("by_topic", "pottery")] == "5"
    assert needs[("by_district", "Nanhu")] == "5"


async def test_a_group_drills_down_to_how_it_was_asked_in_each_language(planner_client) -> None:
    client, _ = planner_client
    await log_in(client, "li")
    page = await client.get("/admin/planner/unmet?group=concept%3Alibrary&lang=zh")
    missing = await client.get("/admin/planner/unmet?group=words%3Anever+asked")

    assert page.status_code == 200
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>(\d+)</td></tr>", page.text)
    assert sorted(rows) == sorted(
        [
            ("library", "英语", "1"),
            ("libary", "英语", "1"),
            ("مكتبة", "阿拉伯语", "1"),
            ("библиотеки", "俄语", "1"),
        ]
    )
    assert "未满足的需求" in page.text
    for sender, *_ in NEEDS:
        assert sender not in page.text
    assert missing.status_code == 404


async def test_the_csv_has_the_totals_of_use_and_the_unmet_groups(planner_client) -> None:
    client, _ = planner_client
    await log_in(client, "li")
    response = await client.get("/admin/planner.csv")

    rows = list(csv.DictReader(io.StringIO(response.text)))
    found = {(r["section"], r["breakdown"], r["value"]): int(r["count"]) for r in rows}
    assert found[("conversations", "total", "citizens")] == 2
    assert found[("conversations", "total", "conversations")] == 3
    assert found[("conversations", "total", "searches")] == 4
    assert found[("unmet", "by_group", "library")] == 4
    assert (
        sum(c for (s, b, _), c in found.items() if (s, b) == ("conversations", "searches_by_week"))
        == 4
    )


def test_the_open_data_export_reads_the_unmet_senders_once(database_url) -> None:
    """The citizens per group come from the same read as the other unmet counts (a second
    read of every unmet search in the range cost 0.2 s of CPU at 100,000 rows), and still
    count a citizen who asked two ways once."""
    from bot.admin.dashboard import chosen_range, planner_counts

    upgrade_database(database_url)
    with session_scope(database_url) as session:
        for query, language, sender in (
            ("library", "en", "web:a"),
            ("libary", "en", "web:a"),
            ("مكتبة", "ar", "web:b"),
        ):
            knowledge.record_unmet_demand(session, query, language, {}, None, sender)
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        counts = planner_counts(database_url, chosen_range({})[0], open_data=True)
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    sender_reads = [s for s in statements if re.match(r'SELECT unmet_demand\."?query\b', s)]
    assert len(sender_reads) == 1, sender_reads
    assert counts["unmet"]["by_group"] == {"library": 2}
    assert "askers" not in counts["unmet"], "the senders are not kept with the counts"
