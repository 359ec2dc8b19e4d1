"""Canned answers for the help desk, per language, kept in `helpdesk/canned_answers.yml`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.language import SUPPORTED_LANGUAGES

CANNED_FILE = Path(__file__).parent / "canned_answers.yml"


class CannedAnswerError(ValueError):
    """The canned answers file is malformed; the message names the file, the answer and the field."""


@dataclass(frozen=True)
class CannedAnswer:
    id: str
    text: dict[str, str]

    def text_in(self, language: str) -> str:
        return self.text.get(language) or self.text["en"]


@functools.cache
def canned_answers(path: Path = CANNED_FILE) -> tuple[CannedAnswer, ...]:
    """The answers in file order; every one in all seven languages."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CannedAnswerError(f"{path}: not valid YAML: {error}") from error
    answers = []
    for position, raw in enumerate(data.get("answers") or [], start=1):
        where = f"{path}: answer {position} ({raw.get('id', '?')})"
        if not raw.get("id"):
            raise CannedAnswerError(f"{where}: field id is missing")
        texts = raw.get("text") or {}
        missing = [lang for lang in SUPPORTED_LANGUAGES if not str(texts.get(lang, "")).strip()]
        if missing:
            raise CannedAnswerError(f"{where}: field text lacks {', '.join(missing)}")
        answers.append(CannedAnswer(str(raw["id"]), {k: str(v).strip() for k, v in texts.items()}))
    return tuple(answers)


def canned_text(answer_id: str, language: str) -> str | None:
    """One answer's text in `language`, or None when there is no such answer."""
    for answer in canned_answers():
        if answer.id == answer_id:
            return answer.text_in(language)
    return None
