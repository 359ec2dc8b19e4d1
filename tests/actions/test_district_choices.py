"""The learning-need form offers the city file's districts, named in the citizen's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Turn
from actions.learning_need_actions import ActionAskNeedDistrict, shown_need_value
from actions.messages import say
from core.settings import get_settings


def _turn(language: str) -> Turn:
    tracker = Tracker("web:t", {}, {"text": "hi"}, [], False, None, {}, "action_listen")
    return Turn(tracker=tracker, dispatcher=CollectingDispatcher(), language=language)


def _district_buttons(language: str) -> list[tuple[str, str]]:
    buttons = ActionAskNeedDistrict().choices(_turn(language))
    return [(button.title, button.payload) for button in buttons if '"district"' in button.payload]


def test_district_buttons_name_each_district_in_the_citizens_language() -> None:
    assert _district_buttons("ru")[:3] == [
        ("Дунчэн", '/inform{"district": "Dongcheng"}'),
        ("Сичэн", '/inform{"district": "Xicheng"}'),
        ("Наньху", '/inform{"district": "Nanhu"}'),
    ]
    assert [title for title, _ in _district_buttons("zh")] == [
        "东城",
        "西城",
        "南湖",
        "北山",
        "江滨",
        "新港",
    ]
    assert shown_need_value(_turn("ar"), "district", "Nanhu") == "نانهو"
    assert shown_need_value(_turn("en"), "district", "Nanhu") == "Nanhu"
    # The example in "tell me your district" is the city file's, in the citizen's language.
    assert "«Наньху»" in say("request_location", "ru")
    assert "“南湖”" in say("request_location", "zh")


@pytest.fixture
def riverton(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    path = tmp_path / "city.yml"
    path.write_text(
        "districts:\n"
        "  - key: Riverside\n    names: {zh: 河畔, en: Riverside}\n"
        "  - key: Hilltop\n    names: {en: Hilltop}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LEARNCITY_CITY_FILE", str(path))
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("LEARNCITY_CITY_FILE")
    get_settings.cache_clear()


def test_another_citys_file_gives_its_own_districts(riverton: None) -> None:
    assert _district_buttons("zh") == [
        ("河畔", '/inform{"district": "Riverside"}'),
        ("Hilltop", '/inform{"district": "Hilltop"}'),  # no Chinese name: the English one
    ]
    # A need stored before the city file changed still reads as it was stored.
    assert shown_need_value(_turn("zh"), "district", "Nanhu") == "Nanhu"
    assert "“河畔”" in say("request_location", "zh")  # no example named: the first district
    assert "“Hilltop”" not in say("request_location", "en")
