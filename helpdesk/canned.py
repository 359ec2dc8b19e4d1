"""Canned answers for the help desk, per language, kept in `helpdesk/canned_answers.yml`.

The file has the shape of the desk's own texts (`answer_id: {language: text}`), so the same
loader checks that every answer exists in all seven languages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpdesk.texts import load_texts

CANNED_FILE = Path(__file__).parent / "canned_answers.yml"


@dataclass(frozen=True)
class CannedAnswer:
    id: str
    text: dict[str, str]

    def text_in(self, language: str) -> str:
        return self.text.get(language) or self.text["en"]


def canned_answers(path: Path = CANNED_FILE) -> tuple[CannedAnswer, ...]:
    """The answers in file order; raises DeskTextError naming a missing language."""
    return tuple(CannedAnswer(key, texts) for key, texts in load_texts(path).items())


def canned_text(answer_id: str, language: str) -> str | None:
    """One answer's text in `language`, or None when there is no such answer."""
    for answer in canned_answers():
        if answer.id == answer_id:
            return answer.text_in(language)
    return None
