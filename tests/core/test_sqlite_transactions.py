"""A transaction on a SQLite file is one transaction (core/database.py, `_begin_before_first_write`).

Python 3.11's sqlite3 begins a transaction only before INSERT/UPDATE/DELETE/REPLACE. A
`begin_nested()` savepoint as a session's first statement therefore began a transaction of its
own, which its release committed: rolling back the outer transaction kept the writes. DDL
committed statement by statement. And the fix must not make a transaction that read before it
writes fail with "database is locked" while another connection writes (SQLite refuses to turn
a read into a write transaction then, without waiting for the busy timeout)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, String, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.database import _alembic_config, make_engine, upgrade_database

WRITER_HOLDS_LOCK_SECONDS = 0.3  # the other writer's transaction is this long (work, not a wait)
READ_BUDGET_SECONDS = 10  # well under the 30 s busy timeout a read waiting for the lock would use


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'transactions.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    try:
        yield engine
    finally:
        engine.dispose()


def _bodies(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT body FROM notes ORDER BY id")))


def _add(session: Session, body: str) -> None:
    session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})


def test_a_savepoint_rolled_back_loses_its_writes_and_keeps_the_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        savepoint = session.begin_nested()  # the session's first statement
        _add(session, "in the savepoint")
        _add(session, "also in the savepoint")
        savepoint.rollback()
        assert session.scalar(text("SELECT count(*) FROM notes")) == 0
        _add(session, "after the savepoint")
        session.commit()
    assert _bodies(engine) == ["after the savepoint"]


def test_rolling_back_the_outer_transaction_undoes_a_released_savepoint(engine: Engine) -> None:
    with Session(engine) as session:
        with session.begin_nested():  # released at the end of the block
            _add(session, "in the released savepoint")
        _add(session, "after it")
        session.rollback()
    assert _bodies(engine) == []


def test_a_savepoint_after_reads_is_part_of_the_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM notes")) == 0
        with session.begin_nested():
            _add(session, "in the savepoint")
        session.rollback()
    assert _bodies(engine) == []


def test_ddl_in_a_rolled_back_transaction_is_undone(engine: Engine) -> None:
    with engine.connect() as connection:
        transaction = connection.begin()
        operations = Operations(MigrationContext.configure(connection))
        operations.create_table("drafts", Column("id", Integer, primary_key=True))
        operations.add_column("notes", Column("author", String(40)))
        transaction.rollback()
    tables = inspect(engine).get_table_names()
    assert "drafts" not in tables
    assert [column["name"] for column in inspect(engine).get_columns("notes")] == ["id", "body"]


class OtherWriter:
    """Another connection's write transaction, on a thread: it writes, says so, keeps the
    write lock WRITER_HOLDS_LOCK_SECONDS and commits."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.writing = threading.Event()
        self.committed = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._write)

    def __enter__(self) -> OtherWriter:
        self.thread.start()
        assert self.writing.wait(30), "the other writer never wrote"
        assert not self.errors, self.errors
        return self

    def __exit__(self, *_exc: object) -> None:
        self.thread.join(60)
        assert not self.errors, self.errors

    def _write(self) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(text("INSERT INTO notes (body) VALUES ('other')"))
                self.writing.set()
                time.sleep(WRITER_HOLDS_LOCK_SECONDS)  # a transaction doing work with the lock
            self.committed.set()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.errors.append(error)
            self.writing.set()


def test_a_transaction_that_read_first_waits_for_another_writer(engine: Engine) -> None:
    """Another connection holds the write lock when this transaction, which has read, writes:
    it waits for the busy timeout instead of failing at once."""
    with Session(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM notes")) == 0
        with OtherWriter(engine) as other:
            assert not other.committed.is_set(), "the other writer committed before this one tried"
            _add(session, "mine")
            session.commit()
    assert sorted(_bodies(engine)) == ["mine", "other"]


def test_a_savepoint_that_writes_after_reads_waits_for_another_writer(engine: Engine) -> None:
    """The help desk's request_person: reads, then a savepoint around the new chat's insert."""
    with Session(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM notes")) == 0
        with OtherWriter(engine) as other:
            assert not other.committed.is_set(), "the other writer committed before this one tried"
            with session.begin_nested():
                _add(session, "mine")
            session.commit()
    assert sorted(_bodies(engine)) == ["mine", "other"]


def test_a_savepoint_around_reads_does_not_wait_for_a_writer(engine: Engine) -> None:
    """The help desk's stored_events reads in a savepoint: it must not queue for the write lock."""
    with engine.connect() as other:
        other.begin()
        other.execute(text("INSERT INTO notes (body) VALUES ('not yet committed')"))
        started = time.monotonic()
        with Session(engine) as session:
            with session.begin_nested():
                assert session.scalar(text("SELECT count(*) FROM notes")) == 0
            session.commit()
        took = time.monotonic() - started
        other.commit()
    assert took < READ_BUDGET_SECONDS, f"a read in a savepoint waited {took:.1f} s for a writer"


def test_a_transaction_that_read_before_another_commit_can_still_write(engine: Engine) -> None:
    with Session(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM notes")) == 0
        with engine.begin() as other:
            other.execute(text("INSERT INTO notes (body) VALUES ('other')"))
        _add(session, "mine")
        session.commit()
    assert _bodies(engine) == ["other", "mine"]


def test_writes_after_the_first_see_one_snapshot_and_commit_together(engine: Engine) -> None:
    with Session(engine) as session:
        _add(session, "first")
        assert session.scalar(text("SELECT count(*) FROM notes")) == 1
        _add(session, "second")
        session.commit()
    assert _bodies(engine) == ["first", "second"]


def test_statements_sqlite_refuses_in_a_transaction_still_run(
    engine: Engine, tmp_path: Path
) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql(f"ATTACH DATABASE '{tmp_path / 'other.db'}' AS other")
        connection.exec_driver_sql("DETACH DATABASE other")
        connection.exec_driver_sql("VACUUM")
        connection.commit()
    assert _bodies(engine) == []


def test_every_migration_still_applies_to_a_new_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            heads = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
    assert heads == set(ScriptDirectory.from_config(_alembic_config(url)).get_heads())
    assert {"helpdesk_chats", "citizen_profiles", "staff_accounts", "catalog_items"} <= tables
    upgrade_database(url)  # and again: nothing to do, no error


BROKEN_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "zz_broken"
down_revision = None
branch_labels = ("broken",)
depends_on = "h1_helpdesk"  # runs after the help desk's migrations


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("UPDATE no_such_table SET x = 1")
"""


def test_a_migration_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "zz_broken.py").write_text(BROKEN_MIGRATION, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    config = _alembic_config(url)
    locations = config.get_main_option("version_locations")
    config.set_main_option("version_locations", f"{locations} {versions}")
    with pytest.raises(OperationalError, match="no_such_table"):
        command.upgrade(config, "heads")
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        with engine.connect() as connection:
            applied = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()
    assert "half_done" not in tables  # the failed migration's DDL is gone
    assert "zz_broken" not in applied
    assert "h1_helpdesk" in applied and "helpdesk_chats" in tables  # the ones before it stay
