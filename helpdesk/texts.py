"""What the help desk says to citizens, read from `helpdesk/replies.yml` (seven languages each)."""

from __future__ import annotations

import functools
import string
from pathlib import Path

import yaml

from nlu.language import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

REPLIES_FILE = Path(__file__).parent / "replies.yml"


class DeskTextError(ValueError):
    """The replies file is malformed; the message names the file, the text and the language."""


@functools.cache
def load_texts(path: Path = REPLIES_FILE) -> dict[str, dict[str, str]]:
    """{text id: {language: text}}; every text in every language, with the same placeholders."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise DeskTextError(f"{path}: expected `text_id: {{language: text}}` entries")
    texts: dict[str, dict[str, str]] = {}
    for key, by_language in data.items():
        if not isinstance(by_language, dict):
            raise DeskTextError(f"{path}: {key}: expected one text per language")
        missing = [
            lang for lang in SUPPORTED_LANGUAGES if not str(by_language.get(lang, "")).strip()
        ]
        if missing:
            raise DeskTextError(f"{path}: {key}: no text for {', '.join(missing)}")
        english = _placeholders(str(by_language["en"]))
        for language in SUPPORTED_LANGUAGES:
            if _placeholders(str(by_language[language])) != english:
                raise DeskTextError(
                    f"{path}: {key}: the {language} text must use the placeholders {sorted(english)}"
                )
        texts[str(key)] = {lang: str(by_language[lang]).strip() for lang in SUPPORTED_LANGUAGES}
    return texts


def desk_text(text_id: str, language: str | None, /, **values: object) -> str:
    """One text in `language` (English when the language is not one of ours)."""
    by_language = load_texts()[text_id]
    text = by_language.get(language or DEFAULT_LANGUAGE) or by_language[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
