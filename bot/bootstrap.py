"""Everything that must be true before the assistant answers: schema, catalog, index, model."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from core.database import session_scope, upgrade_database
from core.settings import Settings

logger = logging.getLogger(__name__)


def prepare_database(settings: Settings) -> str:
    """Apply migrations and, on an empty catalog, import the bundled sample city."""
    import knowledge

    url = settings.sqlalchemy_url
    upgrade_database(url)
    with session_scope(url) as session:
        empty = knowledge.count_items(session) == 0
    if empty:
        logger.info(
            "catalog is empty: importing the sample city from %s", settings.learncity_catalog_path
        )
        import_catalog_file(
            settings.learncity_catalog_path, url=url, prune=False, update_index=False
        )
    return url


def import_catalog_file(  # type: ignore[no-untyped-def]
    path: Path, *, url: str, prune: bool, update_index: bool = True, reading=None
):
    """Import one file or folder, print progress to stderr, then bring the index up to date."""
    import knowledge

    # On a terminal the count rewrites one line; in a log file each count is a line of its own.
    rewrite = sys.stderr.isatty()
    start_of_line = "\r" if rewrite else ""
    line_open = False

    def progress(done: int, total: int) -> None:
        nonlocal line_open
        finished = done >= total or not rewrite
        print(
            f"{start_of_line}  importing {path.name}: {done}/{total}",
            end="\n" if finished else "",
            file=sys.stderr,
            flush=True,
        )
        line_open = not finished

    with session_scope(url) as session:
        summary = knowledge.import_catalog(
            path, session=session, prune=prune, progress=progress, reading=reading
        )
    if line_open:
        print(file=sys.stderr)
    if update_index:
        prepare_index()
    return summary


def prepare_index() -> None:
    """Bring the search index in line with the catalog: item by item, or built if unusable."""
    import knowledge

    knowledge.ensure_index_from_database()


def prepare_model(settings: Settings) -> Path:
    """Train the Rasa model if its inputs changed; return its path."""
    from nlu.training import ensure_model

    return ensure_model(settings)
