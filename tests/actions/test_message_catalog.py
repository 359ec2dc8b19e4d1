"""The reply catalog and the newcomer guidance file: complete, consistent, and used as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions import newcomer_guidance
from actions.messages import (
    NEWCOMER_MESSAGES,
    REPLIES_DIR,
    MessageCatalogError,
    load_catalog,
    placeholders,
    say,
)
from nlu.language import SUPPORTED_LANGUAGES

ACTIONS_DIR = Path(__file__).resolve().parents[2] / "actions"


def test_every_message_exists_in_chinese_and_english() -> None:
    catalog = load_catalog()
    assert catalog["en"], "the English catalog is empty"
    assert set(catalog["zh"]) == set(catalog["en"])


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_newcomer_path_messages_exist_in_every_language(language: str) -> None:
    missing = NEWCOMER_MESSAGES - set(load_catalog()[language])
    assert not missing, f"{REPLIES_DIR / language}.yml lacks {sorted(missing)}"


def test_translations_use_the_same_placeholders_as_english() -> None:
    catalog = load_catalog()
    for language in SUPPORTED_LANGUAGES:
        for message_id, text in catalog[language].items():
            assert message_id in catalog["en"], f"{language}.yml has unknown message {message_id}"
            assert placeholders(text) == placeholders(catalog["en"][message_id]), (
                f"{language}.yml {message_id}: placeholders differ from en.yml"
            )


def test_every_message_the_actions_use_is_in_the_catalog() -> None:
    source = "\n".join(path.read_text(encoding="utf-8") for path in ACTIONS_DIR.glob("*.py"))
    used = set(re.findall(r'say\(\s*"([a-z_]+)"', source))
    # Not the help desk's own texts (helpdesk.desk_text, checked in tests/helpdesk/).
    used |= set(re.findall(r'(?<!desk_text)\(\s*"((?:button|time|audience)_[a-z_]+)"\s*,', source))
    used |= {f"time_{t}" for t in ("weekend", "evening", "morning", "daytime")}
    used |= {f"audience_{a}" for a in ("children", "youth", "seniors")}
    assert len(used) > 40, "the scan found too few message ids to be trusted"
    assert not used - set(load_catalog()["en"]), sorted(used - set(load_catalog()["en"]))


def test_say_fills_placeholders_and_falls_back_to_english(tmp_path: Path) -> None:
    assert "pottery" in say("search_results", "fr", query="pottery")
    assert say("help", "xx") == load_catalog()["en"]["help"]
    with pytest.raises(KeyError):
        say("no_such_message", "en")


def test_a_malformed_reply_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "en.yml").write_text("greet: ''\n", encoding="utf-8")
    with pytest.raises(MessageCatalogError, match=r"en\.yml: message 'greet'"):
        load_catalog(tmp_path)


def test_guidance_steps_cover_the_four_first_steps_in_every_language() -> None:
    steps = newcomer_guidance.load_steps()
    assert [step.id for step in steps] == [
        "local_language",
        "qualifications",
        "schooling",
        "help_desk",
    ]
    for step in steps:
        for language in SUPPORTED_LANGUAGES:
            assert step.title[language].strip() and step.text[language].strip()


def test_a_guidance_step_missing_a_translation_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load(newcomer_guidance.GUIDANCE_FILE.read_text(encoding="utf-8"))
    del data["steps"][1]["text"]["uk"]
    broken = tmp_path / "newcomers.yml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(newcomer_guidance.GuidanceContentError) as raised:
        newcomer_guidance.load_steps(broken)
    assert "step 2 (qualifications)" in str(raised.value)
    assert "field text lacks uk" in str(raised.value)


@pytest.mark.parametrize(
    ("topic", "text", "expected"),
    [
        ("schooling", None, "schooling"),
        (None, "how can I get my foreign degree recognised", "qualifications"),
        (None, "¿dónde hay clases de chino?", "local_language"),
        (None, "де служба допомоги?", "help_desk"),
        (None, "I just moved here", None),
    ],
)
def test_a_button_or_a_typed_question_opens_its_guidance_step(
    topic: str | None, text: str | None, expected: str | None
) -> None:
    step = newcomer_guidance.find_step(topic, text)
    assert (step.id if step else None) == expected


def test_every_guidance_step_shows_catalog_offers(sample_city: str) -> None:
    for step in newcomer_guidance.load_steps():
        offers = newcomer_guidance.offers_for(step, sample_city)
        assert len(offers) >= 3, f"step {step.id} shows {len(offers)} offers"
        listed = [offer.item.id for offer in offers[: len(step.items)]]
        assert listed == list(step.items), f"step {step.id}: a listed catalog id is unknown"
