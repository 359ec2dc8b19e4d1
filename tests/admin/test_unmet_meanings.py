"""Unmet questions merged by meaning across languages on the planner dashboard, with the real
multilingual model (bot/admin/unmet_meanings.py): decided when a day's counts are kept, read by
a view; "forget me" erases the citizen's questions' meanings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine

from bench.dashboard_seed import write_needs_and_unmet
from bot.admin.dashboard import DateRange, planner_counts
from bot.admin.unmet_meanings import SAME_MEANING_COSINE
from core.database import session_scope, upgrade_database
from core.settings import get_settings
from staff.meanings import known_meanings
from staff.rollups import forget_citizen_days

MODEL = get_settings().embedding_model
ASKED = [  # (question, language, times, citizen)
    ("swimming lessons", "en", 3, "telegram:1"),
    ("clases de natación", "es", 2, "telegram:2"),
    ("游泳课", "zh", 1, "wechat:3"),
    ("German lessons", "en", 2, "telegram:4"),
    ("clases de coreano", "es", 1, "web:5"),
    ("cours de coréen", "fr", 1, "web:6"),
]


def _ask(url: str, asked: list[tuple[str, str, int, str]], when: datetime) -> None:
    engine = create_engine(url)
    rows = [
        {
            "sender_id": sender,
            "query": question,
            "language": language,
            "filters": "{}",
            "district": None,
            "created_at": when,
        }
        for question, language, times, sender in asked
        for _ in range(times)
    ]
    write_needs_and_unmet(engine, [], rows)
    engine.dispose()


def _rows(url: str, period: DateRange) -> list[tuple[str, int, list[str]]]:
    groups = planner_counts(url, period)["groups"]
    return [(group.label, group.count, sorted(group.languages)) for group in groups]


def test_swimming_lessons_in_three_languages_are_one_row_once_their_day_is_kept(
    database_url: str,
) -> None:
    assert MODEL in SAME_MEANING_COSINE, "the default model has a measured threshold"
    upgrade_database(database_url)
    today = datetime.now(UTC).date()
    three_days_ago = datetime.combine(today - timedelta(days=3), datetime.min.time(), UTC)
    _ask(database_url, ASKED, three_days_ago + timedelta(hours=10))

    rows = _rows(database_url, DateRange(today - timedelta(days=7), today))

    assert rows == [
        ("swimming lessons", 6, ["en", "es", "zh"]),
        ("clases de coreano", 2, ["es", "fr"]),
        ("german lessons", 2, ["en"]),
    ]
    # Asked again today (a day not kept yet), the same words join at once by their kept
    # meaning; a question never asked before waits for its day to be kept.
    _ask(
        database_url,
        [("游泳课", "zh", 1, "wechat:7"), ("уроки плавания", "ru", 1, "telegram:8")],
        datetime.now(UTC) - timedelta(minutes=5),
    )
    today_only = _rows(database_url, DateRange(today, today))
    assert today_only == [("уроки плавания", 1, ["ru"]), ("游泳课", 1, ["zh"])]
    week = _rows(database_url, DateRange(today - timedelta(days=7), today))
    assert week[0] == ("swimming lessons", 7, ["en", "es", "zh"])
    assert ("уроки плавания", 1, ["ru"]) in week


def test_forget_me_erases_the_meanings_of_the_citizens_questions(database_url: str) -> None:
    upgrade_database(database_url)
    today = datetime.now(UTC).date()
    _ask(database_url, ASKED, datetime.now(UTC) - timedelta(days=2))
    planner_counts(database_url, DateRange(today - timedelta(days=7), today))  # keeps the days
    pairs = [("swimming lessons", "en"), ("clases de natación", "es")]
    with session_scope(database_url) as session:
        before = known_meanings(session, MODEL, pairs)
        forget_citizen_days(session, "telegram:2")
    with session_scope(database_url) as session:
        after = known_meanings(session, MODEL, pairs)
    assert (set(before), list(after)) == (set(pairs), [("swimming lessons", "en")])
