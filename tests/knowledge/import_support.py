"""Shared set-up for the import tests: a copy of the HSDS test package with some text changed,
and a real SQLite catalog that already holds one file."""

from __future__ import annotations

import shutil
from pathlib import Path

import knowledge
from core.database import session_scope, upgrade_database

HSDS = Path(__file__).parent / "data" / "hsds"
TWO_COURSES = "id,type,name\na,course,Pottery\nb,course,Knitting\n"


def catalog_with_two_courses(folder: Path) -> tuple[str, Path, dict[str, str]]:
    """A fresh SQLite catalog in `folder` into which `offer.csv` (courses a and b) was
    imported: its URL, the file (to be rewritten by the test) and the stored content hashes."""
    url = f"sqlite:///{folder / 'catalog.db'}"
    upgrade_database(url)
    path = folder / "offer.csv"
    path.write_text(TWO_COURSES, encoding="utf-8")
    with session_scope(url) as session:
        knowledge.import_catalog(path, session=session)
    with session_scope(url) as session:
        return url, path, knowledge.content_hashes(session)


def hsds_package(folder: Path, *edits: tuple[str, str, str]) -> Path:
    """A copy of the HSDS test package in `folder`, each (file, old, new) edit made in it (the
    old text must be there, so a changed package fails loudly)."""
    package = folder / "hsds"
    shutil.copytree(HSDS, package)
    for name, old, new in edits:
        content = (package / name).read_text(encoding="utf-8")
        assert old in content, f"{old!r} not in {name}"
        (package / name).write_text(content.replace(old, new), encoding="utf-8")
    return package
