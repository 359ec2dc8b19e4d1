"""`learncity staff add|list|remove` as a real subprocess, the password on standard input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

import staff
from core.database import session_scope
from core.settings import REPOSITORY_ROOT


def _learncity(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'staff.db'}"
    env["LEARNCITY_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "staff", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPOSITORY_ROOT,
        timeout=120,
    )


def test_staff_add_list_remove_with_the_password_on_stdin(tmp_path: Path) -> None:
    added = _learncity(tmp_path, "add", "mei", "--role", "planner", stdin="a long secret 42\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added mei (planner)"
    assert "a long secret 42" not in added.stdout + added.stderr

    url = f"sqlite:///{tmp_path / 'staff.db'}"
    token, _ = staff.log_in(url, "mei", "a long secret 42", "127.0.0.1")
    assert token
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM staff_accounts")).scalar_one()
    engine.dispose()
    assert "a long secret 42" not in stored

    listed = _learncity(tmp_path, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(row["name"], row["role"]) for row in json.loads(listed.stdout)] == [("mei", "planner")]

    removed = _learncity(tmp_path, "remove", "mei")
    assert removed.returncode == 0, removed.stderr
    again = _learncity(tmp_path, "remove", "mei")
    assert again.returncode == 1
    assert "no staff account named 'mei'" in again.stderr

    with session_scope(url) as session:
        actions = [(entry.action, entry.target) for entry in staff.audit_entries(session)]
        added = [e.details for e in staff.audit_entries(session, action="staff_add")]
    assert added == [{"name": "mei", "role": "planner"}]
    assert ("staff_add", "mei") in actions and ("staff_remove", "mei") in actions


def test_a_generated_password_is_printed_once_and_works(tmp_path: Path) -> None:
    added = _learncity(tmp_path, "add", "ops", "--role", "admin", "--generate-password")
    assert added.returncode == 0, added.stderr
    password = added.stdout.split("keep it safe): ", 1)[1].strip()
    assert len(password) >= 16

    _, opened = staff.log_in(f"sqlite:///{tmp_path / 'staff.db'}", "ops", password, "127.0.0.1")
    assert opened.role == "admin"


def test_an_unknown_role_is_refused_and_nothing_is_added(tmp_path: Path) -> None:
    refused = _learncity(tmp_path, "add", "x", "--role", "root", stdin="a long secret 42\n")
    assert refused.returncode == 2
    assert "invalid choice: 'root'" in refused.stderr
    listed = _learncity(tmp_path, "list", "--json")
    assert json.loads(listed.stdout) == []
