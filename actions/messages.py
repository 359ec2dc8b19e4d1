"""The message catalog: every reply text, by message id and language, rendered by actions.

Texts live in `actions/replies/<language>.yml` (`message_id: text with {placeholders}`), so
translators edit one file per language and the reply language is chosen in one place.
"""

from __future__ import annotations

import functools
import string
from pathlib import Path

import yaml

from nlu.language import DEFAULT_LANGUAGE, NATIVE_LANGUAGE_NAMES, SUPPORTED_LANGUAGES

REPLIES_DIR = Path(__file__).parent / "replies"

# Every message exists in zh and en; these, the newcomer's path, exist in every language.
NEWCOMER_MESSAGES = frozenset(
    {
        "greet",
        "help",
        "button_find_course",
        "button_spaces_near_me",
        "button_newcomer",
        "button_register_interest",
        "button_language",
        "search_results",
        "relaxed_results",
        "browse_results",
        "nearby_results",
        "nearby_widened_results",
        "no_results",
        "no_results_nearby",
        "no_more_results",
        "nothing_to_refine",
        "ask_what_to_learn",
        "button_more",
        "button_weekends",
        "button_free",
        "button_for_my_child",
        "button_yes_register",
        "request_location",
        "spaces_results",
        "migrant_welcome",
        "migrant_related_offers",
        "migrant_other_steps",
        "ask_language",
        "language_set",
        "fallback",
        "out_of_scope",
        "try_again",
    }
)

# The citizen-facing names of the languages, each in its own language (for language buttons).
LANGUAGE_NAMES = NATIVE_LANGUAGE_NAMES


class MessageCatalogError(ValueError):
    """A reply file is malformed; the message names the file and the message id."""


@functools.cache
def load_catalog(folder: Path = REPLIES_DIR) -> dict[str, dict[str, str]]:
    """{language: {message_id: text}} from the folder's `<language>.yml` files."""
    catalog: dict[str, dict[str, str]] = {}
    for language in SUPPORTED_LANGUAGES:
        path = folder / f"{language}.yml"
        if not path.exists():
            catalog[language] = {}
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise MessageCatalogError(f"{path}: expected `message_id: text` lines")
        for key, value in data.items():
            if not isinstance(value, str) or not value.strip():
                raise MessageCatalogError(f"{path}: message {key!r} must be a non-empty text")
        catalog[language] = {str(key): value.strip() for key, value in data.items()}
    return catalog


def placeholders(template: str) -> set[str]:
    """The `{names}` a text expects (so every translation can be checked to use the same ones)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def say(message_id: str, language: str, /, **values: object) -> str:
    """The text for `message_id` in `language` (English if not translated), filled with values."""
    catalog = load_catalog()
    template = catalog.get(language, {}).get(message_id) or catalog[DEFAULT_LANGUAGE].get(
        message_id
    )
    if template is None:
        raise KeyError(f"message {message_id!r} is not in {REPLIES_DIR}/{DEFAULT_LANGUAGE}.yml")
    if "{example_district}" in template and "example_district" not in values:
        values = {**values, "example_district": _example_district(language)}
    return template.format(**values)


def _example_district(language: str) -> str:
    """A district of the city file, named in `language`, for texts that give an example
    ("tell me your district, for example “Nanhu”"): the city's data, not the replies'."""
    from knowledge.city import load_city

    city = load_city()
    return city.district_name(city.example_district, language)
