"""The PostgreSQL server the fault and cluster tests make for themselves starts wherever TMPDIR is."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.faults.postgres import TemporaryPostgres


def test_a_temporary_postgres_starts_in_a_temp_dir_whose_path_has_a_space(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pg_ctl runs its `-o` options through a shell: an unquoted socket directory with a space
    was cut in two, and the server never started ("pg_ctl failed")."""
    parent = Path(tempfile.mkdtemp(prefix="learncity tmp with spaces "))
    parent.chmod(0o755)  # as root, the server runs as `postgres`, which must reach its directory
    monkeypatch.setattr(tempfile, "tempdir", str(parent))
    try:
        with TemporaryPostgres() as postgres:
            assert " " in str(postgres.directory)
            engine = create_engine(postgres.url)
            with engine.connect() as connection:
                answered = connection.execute(text("select 1")).scalar_one()
            engine.dispose()
    finally:
        os.rmdir(parent)
    assert answered == 1
