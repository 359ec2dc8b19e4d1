"""staff/ reaches other packages' tables only through their public functions: it writes no
SQL of its own (issue 12: knowledge owns unmet_demand, citizens owns learning_needs and
Rasa's events), so a change of those tables is made in one place."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

import citizens
import knowledge
import staff
from bench.dashboard_seed import Conversation, write_conversations
from core.database import session_scope, upgrade_database
from staff.rollups import forget_citizen_days, keep_day, kept_days

STAFF = Path(staff.__file__).parent


def _raw_sql_imports(path: Path) -> list[str]:
    """Where a module imports SQLAlchemy's raw SQL (`text`), as 'file:line'."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "sqlalchemy"
            and any(alias.name == "text" for alias in node.names)
        ):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_staff_writes_no_raw_sql() -> None:
    modules = sorted(STAFF.glob("*.py"))
    assert modules, STAFF
    found = [where for path in modules for where in _raw_sql_imports(path)]
    assert found == []


def test_forget_me_finds_the_citizens_days_through_the_owners_reads(database_url: str) -> None:
    """The days of a need, an unmet search and a conversation, each on its own day, are the
    days "forget me" drops from the planner's kept counts; another citizen's day stays."""
    sender = "telegram:77"
    need_day, unmet_day, talk_day, other_day = (
        datetime(2026, 3, day, 23, 30, tzinfo=UTC) for day in (2, 5, 9, 12)
    )
    upgrade_database(database_url)
    engine = create_engine(database_url)
    write_conversations(
        engine,
        [
            Conversation(sender, talk_day, turns=2, searches=1),
            Conversation("web:other", other_day, turns=1, searches=0),
        ],
    )
    with session_scope(database_url) as session:
        citizens.register_learning_need(
            session, sender, citizens.LearningNeed(topic="origami"), consent=True
        )
        knowledge.record_unmet_demand(session, "Paper  Cranes", "en", {}, None, sender_id=sender)
    with engine.begin() as connection:  # the rows were written on those days
        for table, at in (("learning_needs", need_day), ("unmet_demand", unmet_day)):
            connection.execute(
                text(f"UPDATE {table} SET created_at = :at WHERE sender_id = :sender"),
                {"at": at, "sender": sender},
            )
    engine.dispose()
    with session_scope(database_url) as session:
        assert knowledge.unmet_searches_of(session, sender)[0][0] == "Paper  Cranes"
        for day in (need_day, unmet_day, talk_day, other_day):
            keep_day(session, "needs", day.date(), 8 * 3600, {"total": 1})
    with session_scope(database_url) as session:
        forget_citizen_days(session, sender)
    with session_scope(database_url) as session:
        left = kept_days(session, "needs", date(2026, 3, 1), date(2026, 3, 31), 8 * 3600)
    assert sorted(left) == [other_day.date()]
