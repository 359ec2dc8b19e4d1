"""Catalog editors change an item's schedule sessions and remove an item from the console:
each change is found (or no longer found) by a real search at once, in this process and in
another one reading the index on disk; bad session fields are named and nothing is saved;
removal needs its confirmation form; both are audited, need the editor role and a CSRF token."""

from __future__ import annotations

from pathlib import Path

import knowledge
import staff
from core.database import session_scope
from knowledge.search import SearchFilters, SearchService
from tests.admin.console_support import csrf_token_in, log_in
from tests.admin.test_catalog_editing import data_dir, editor  # noqa: F401 (fixtures)

WEEKEND = SearchFilters(time_of_day="weekend")


def _found(query: str, searcher=None, filters=None) -> list[str]:  # type: ignore[no-untyped-def]
    results = (searcher or knowledge.get_search_service()).search(query, limit=3, filters=filters)
    return [result.item.id for result in results if result.matched]


async def test_changed_sessions_are_searched_by_day_at_once(editor, data_dir: Path) -> None:  # noqa: F811
    client, database_url = editor
    assert "lc-chess" not in _found("chess club", filters=WEEKEND)
    form = await client.get("/admin/catalog/sessions?id=lc-chess")
    assert form.status_code == 200 and 'value="We"' in form.text
    # The text the days and times make is left empty, so that new days make a new text.
    assert 'name="schedule_text_1" value=""' in form.text

    saved = await client.post(
        "/admin/catalog/sessions",
        data={
            "csrf_token": csrf_token_in(form.text),
            "id": "lc-chess",
            "sessions": "2",
            "days_1": "We",
            "start_time_1": "19:00",
            "end_time_1": "21:00",
            "remove_1": "1",
            "days_2": "Sa | Su",
            "start_time_2": "10:00",
            "end_time_2": "12:00",
            "except_dates_2": "2027-01-02",
        },
    )

    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/catalog/sessions?id=lc-chess&saved=1"
    assert _found("chess club", filters=WEEKEND)[:1] == ["lc-chess"]
    other_process = SearchService(data_dir / "index")
    assert other_process.load()
    assert _found("chess club", other_process, WEEKEND)[:1] == ["lc-chess"]
    with session_scope(database_url) as session:
        item = knowledge.get_item(session, "lc-chess")
        latest = staff.audit_entries(session)[0]
    assert item is not None
    assert [(s.days, s.start_time, s.except_dates) for s in item.sessions] == [
        (("saturday", "sunday"), "10:00", ("2027-01-02",))
    ]
    assert (latest.actor, latest.action, latest.target) == ("wu", "catalog_sessions", "lc-chess")
    shown = await client.get(saved.headers["location"])
    assert 'value="Sa | Su"' in shown.text and 'role="status"' in shown.text


async def test_bad_session_fields_are_named_and_nothing_is_saved(editor) -> None:  # noqa: F811
    client, database_url = editor
    form = await client.get("/admin/catalog/sessions?id=lc-yoga")
    response = await client.post(
        "/admin/catalog/sessions",
        data={
            "csrf_token": csrf_token_in(form.text),
            "id": "lc-yoga",
            "sessions": "2",
            "days_1": "Tu",
            "start_time_1": "25:00",
            "days_2": "someday",
            "start_date_2": "2027-13-01",
        },
    )

    assert response.status_code == 400
    for field in ("session 1: start_time", "session 2: days", "session 2: start_date"):
        assert field in response.text
    with session_scope(database_url) as session:
        item = knowledge.get_item(session, "lc-yoga")
    assert item is not None and item.schedule_text() == "Tue 07:00-08:00"


async def test_a_removed_item_is_confirmed_audited_and_no_longer_found(
    editor,  # noqa: F811
    data_dir: Path,  # noqa: F811
) -> None:
    client, database_url = editor
    assert _found("erhu fiddle")[:1] == ["lc-erhu"]
    confirm = await client.get("/admin/catalog/remove?id=lc-erhu")
    assert confirm.status_code == 200 and "Erhu lessons" in confirm.text

    removed = await client.post(
        "/admin/catalog/remove", data={"csrf_token": csrf_token_in(confirm.text), "id": "lc-erhu"}
    )

    assert removed.status_code == 303
    assert "lc-erhu" not in _found("erhu fiddle")
    other_process = SearchService(data_dir / "index")
    assert other_process.load() and "lc-erhu" not in _found("erhu fiddle", other_process)
    listed = await client.get(removed.headers["location"])
    assert "“Erhu lessons” was removed" in listed.text
    with session_scope(database_url) as session:
        assert knowledge.get_item(session, "lc-erhu") is None
        latest = staff.audit_entries(session)[0]
    assert (latest.actor, latest.action, latest.target) == ("wu", "catalog_remove", "lc-erhu")
    again = await client.post(
        "/admin/catalog/remove", data={"csrf_token": csrf_token_in(confirm.text), "id": "lc-erhu"}
    )
    assert again.status_code == 404


async def test_removal_needs_a_csrf_token_and_the_editor_role(editor) -> None:  # noqa: F811
    client, database_url = editor
    no_token = await client.post("/admin/catalog/remove", data={"id": "lc-yoga"})
    assert no_token.status_code == 403
    await client.post(
        "/admin/logout", data={"csrf_token": csrf_token_in((await client.get("/admin/")).text)}
    )
    await log_in(client, "ana")
    organizer = await client.get("/admin/catalog/remove?id=lc-yoga")
    assert organizer.status_code == 403
    with session_scope(database_url) as session:
        assert knowledge.get_item(session, "lc-yoga") is not None
