"""Editors change the newcomer guidance texts from the console: a preview in any language
changes nothing, a save changes exactly the texts in the file (comments and the rest stay)
and the actions read it at once; a missing translation is refused naming it."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import staff
from actions import newcomer_guidance
from core.database import session_scope
from core.settings import get_settings
from nlu.language import SUPPORTED_LANGUAGES
from tests.admin.console_support import console_app, csrf_token_in, log_in

NEW_TEXT = "Bring your original diploma and passport to the Xingang centre on any weekday."


@pytest.fixture
def guidance_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the city's guidance file, which the settings then name."""
    copy = tmp_path / "newcomers.yml"
    shutil.copy(newcomer_guidance.GUIDANCE_FILE, copy)
    monkeypatch.setenv("LEARNCITY_GUIDANCE_FILE", str(copy))
    get_settings.cache_clear()
    yield copy
    get_settings.cache_clear()


@pytest.fixture
async def editor(
    guidance_file: Path, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    database_url = f"sqlite:///{tmp_path / 'guidance.db'}"
    app, conversation = console_app(database_url, {"wu": "editor", "li": "planner"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "wu")
        yield client, database_url
    await conversation.close()


def _form(html: str, **changes: str) -> dict[str, str]:
    """The page's form as a browser would send it, with `changes`."""
    fields = dict(re.findall(r'name="(title_\w+)"[^>]*value="([^"]*)"', html))
    fields |= dict(re.findall(r'name="(text_\w+)"[^>]*>([^<]*)</textarea>', html))
    fields = {
        name: value.replace("&#39;", "'").replace("&amp;", "&") for name, value in fields.items()
    }
    return {"csrf_token": csrf_token_in(html), "step": "qualifications", **fields, **changes}


async def test_a_preview_shows_the_citizens_view_and_writes_nothing(editor, guidance_file) -> None:
    client, _ = editor
    before = guidance_file.read_text(encoding="utf-8")
    page = await client.get("/admin/guidance?step=qualifications&lang=zh")
    assert page.status_code == 200
    assert sorted(re.findall(r'id="text_(\w+)"', page.text)) == sorted(SUPPORTED_LANGUAGES)

    preview = await client.post(
        "/admin/guidance/preview", data=_form(page.text, text_ar="نص جديد للتجربة", preview="ar")
    )

    assert preview.status_code == 200
    card = re.search(
        r'<div class="preview-card" id="guidance-preview" lang="ar" dir="rtl">(.*?)</div>',
        preview.text,
        re.S,
    )
    assert card and "المؤهلات الأجنبية" in card.group(1) and "نص جديد للتجربة" in card.group(1)
    assert "尚未保存" in preview.text
    assert guidance_file.read_text(encoding="utf-8") == before


async def test_saving_changes_only_that_text_and_the_actions_read_it_at_once(
    editor, guidance_file
) -> None:
    client, database_url = editor
    before = guidance_file.read_text(encoding="utf-8").splitlines()
    assert newcomer_guidance.find_step("qualifications", None).text_in("en") != NEW_TEXT
    page = await client.get("/admin/guidance?step=qualifications")

    saved = await client.post("/admin/guidance/save", data=_form(page.text, text_en=NEW_TEXT))

    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/guidance?step=qualifications&saved=1"
    after = guidance_file.read_text(encoding="utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 1 and NEW_TEXT in changed[0][1], "one line changed; comments stay"
    assert newcomer_guidance.find_step("qualifications", None).text_in("en") == NEW_TEXT
    with session_scope(database_url) as session:
        latest = staff.audit_entries(session)[0]
    assert (latest.actor, latest.action, latest.target) == ("wu", "guidance_edit", "qualifications")


async def test_a_missing_translation_is_refused_naming_it(editor, guidance_file) -> None:
    client, _ = editor
    before = guidance_file.read_text(encoding="utf-8")
    page = await client.get("/admin/guidance?step=qualifications")

    refused = await client.post("/admin/guidance/save", data=_form(page.text, title_uk="  "))

    assert refused.status_code == 400
    assert "step qualifications: field title lacks uk" in refused.text
    assert guidance_file.read_text(encoding="utf-8") == before


async def test_a_planner_is_refused_the_guidance_page(editor) -> None:
    client, _ = editor
    await client.post(
        "/admin/logout", data={"csrf_token": csrf_token_in((await client.get("/admin/")).text)}
    )
    await log_in(client, "li")
    assert (await client.get("/admin/guidance")).status_code == 403
