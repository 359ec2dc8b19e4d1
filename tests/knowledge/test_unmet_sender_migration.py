"""The k3 migration on a database with unmet searches already in it: the rows stay (with no
sender), new ones keep theirs, and the downgrade drops only the column. SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

import knowledge
from core.database import _alembic_config, get_engine, session_scope, upgrade_database


def _columns(url: str) -> set[str]:
    return {column["name"] for column in inspect(get_engine(url)).get_columns("unmet_demand")}


def test_the_sender_column_is_added_to_existing_unmet_searches_and_removed_again(
    database_url: str,
) -> None:
    config = _alembic_config(database_url)
    command.upgrade(config, "heads")
    command.downgrade(config, "k2_catalog_imports")
    assert "sender_id" not in _columns(database_url)
    with session_scope(database_url) as session:
        session.execute(
            text(
                "INSERT INTO unmet_demand (query, language, filters, created_at)"
                " VALUES ('beekeeping', 'en', '{}', CURRENT_TIMESTAMP)"
            )
        )

    upgrade_database(database_url)
    with session_scope(database_url) as session:
        knowledge.record_unmet_demand(session, "pottery", "en", {}, None, "telegram:9")
        stored = session.execute(
            text("SELECT query, sender_id FROM unmet_demand ORDER BY id")
        ).all()
    assert [tuple(row) for row in stored] == [("beekeeping", None), ("pottery", "telegram:9")]

    command.downgrade(config, "k2_catalog_imports")
    with session_scope(database_url) as session:
        left = session.execute(text("SELECT query FROM unmet_demand ORDER BY id")).scalars().all()
    assert "sender_id" not in _columns(database_url)
    assert left == ["beekeeping", "pottery"]
