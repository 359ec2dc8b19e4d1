"""The dashboard in Chinese, in real Chromium: every district is the city's Chinese name, and
no stored English word ("unknown", "weekday", "children", "free_only", a language code) is
left on the page. The drill-down and the catalog list say the same. Screenshot in docs/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import citizens
import knowledge
from core.database import session_scope
from core.settings import REPOSITORY_ROOT
from knowledge.city import load_city
from tests.admin.browser_support import browser_page, log_in_with, require_chromium, served
from tests.admin.console_support import console_app

SCREENSHOT = REPOSITORY_ROOT / "docs" / "console-planner-zh.png"
# Stored values the English console shows as they are; none may reach the Chinese page.
STORED_ENGLISH = [
    "unknown",
    "weekday",
    "weekend",
    "evening",
    "morning",
    "children",
    "seniors",
    "migrants",
    "free_only",
    "time_of_day",
    "audience",
]


@pytest.fixture
def served_console(tmp_path: Path):  # type: ignore[no-untyped-def]
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    app, _ = console_app(database_url, {"li": "planner"})
    with served(app) as base_url:
        yield base_url, database_url


def _english_only_names() -> dict[str, str]:
    """Each district whose English name differs from its Chinese one: {english: chinese}."""
    city = load_city()
    return {
        city.district_name(key, "en"): city.district_name(key, "zh")
        for key in city.district_keys
        if city.district_name(key, "en") != city.district_name(key, "zh")
    }


async def test_the_chinese_dashboard_names_districts_and_values_in_chinese(
    served_console: tuple[str, str],
) -> None:
    require_chromium()
    base_url, database_url = served_console
    city = load_city()
    with session_scope(database_url) as session:
        for number, key in enumerate(city.district_keys):
            need = citizens.LearningNeed(
                topic="书法",
                district=key,
                language=("zh", "en", "ar")[number % 3],
                preferred_times="weekday evening" if number % 2 else "weekend morning",
                age_group=("children", "seniors", "migrants")[number % 3],
            )
            citizens.register_learning_need(session, f"web:{number}", need, consent=True)
            knowledge.record_unmet_demand(
                session, "潜水", "zh", {"time_of_day": "weekend"}, key, f"web:{number}"
            )
        # Nothing said about district, language, times or age: the "unknown" rows.
        citizens.register_learning_need(
            session, "web:quiet", citizens.LearningNeed(topic="书法"), consent=True
        )
        knowledge.record_unmet_demand(
            session, "library", None, {"free_only": True, "audience": "children"}, None, "web:q"
        )

    async with browser_page("zh-CN", 1280, 900) as page:
        await log_in_with(page, base_url, "li", "工作人员账号", "密码")
        await page.goto(f"{base_url}/admin/planner")
        text = await page.locator("main").inner_text()
        titles = await page.locator("svg title").all_text_contents()
        shown = text + "\n" + "\n".join(titles)

        english_names = _english_only_names()
        assert english_names, "the city file names its districts differently in Chinese"
        left_english = [name for name in english_names if re.search(rf"\b{name}\b", shown)]
        assert left_english == []
        districts = page.get_by_role("img", name="学习需求（按区域）")
        labels = await districts.locator("title").all_text_contents()
        assert sorted(label.split(":")[0] for label in labels) == sorted(
            [*english_names.values(), "未知"]
        )
        left_words = [word for word in STORED_ENGLISH if re.search(rf"\b{word}\b", shown)]
        assert left_words == []
        assert "图书馆" in text, "the glossary's Chinese word names the unmet group"
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

        await page.get_by_role("link", name="图书馆").click()
        await page.wait_for_url("**/admin/planner/unmet?group=*")
        asked = await page.locator("#group-queries tbody tr").all_inner_texts()
        assert [row.split("\t")[:2] for row in asked] == [["library", "未知"]]
    assert SCREENSHOT.stat().st_size > 10_000
