"""Every console text in English and Chinese (issue 12): each table of the console's words has
the same keys and the same {placeholders} in both, and the templates write no words of their
own outside those tables."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.admin import i18n
from bot.admin.announce_words import ANNOUNCE_WORDS
from bot.admin.catalog_words import CATALOG_CHANGE_WORDS
from bot.admin.helpdesk_words import HELPDESK_WORDS

TABLES = {
    "i18n.WORDS": i18n.WORDS,
    "announce_words": ANNOUNCE_WORDS,
    "catalog_words": CATALOG_CHANGE_WORDS,
    "helpdesk_words": HELPDESK_WORDS,
}
TEMPLATES = Path(i18n.__file__).parent / "templates"
# What a template may write as it is: the catalog's own field name.
AS_IS = {"id"}


def _placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_text_is_in_english_and_chinese_with_the_same_placeholders(name: str) -> None:
    table = TABLES[name]
    english, chinese = table["en"], table["zh"]
    assert sorted(set(english) ^ set(chinese)) == []
    assert {
        k: v for k, v in english.items() if any(c.isalpha() for c in v) and v == chinese[k]
    } == {}
    differ = [k for k in english if _placeholders(english[k]) != _placeholders(chinese[k])]
    assert differ == []


def test_the_templates_write_no_words_of_their_own() -> None:
    found = {}
    for template in sorted(TEMPLATES.glob("*.html")):
        html = template.read_text(encoding="utf-8")
        shown_attributes = re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', html)
        html += " ".join(shown_attributes)  # read by people too: in the tables' words
        for pattern in (r"\{#.*?#\}", r"\{\{.*?\}\}", r"\{%.*?%\}", r"<[^>]*>"):
            html = re.sub(pattern, " ", html, flags=re.S)
        words = set(re.findall(r"[^\W\d_]{2,}", html)) - AS_IS
        if words:
            found[template.name] = sorted(words)
    assert found == {}
