"""Newcomer guidance: the steps city staff keep in `actions/guidance/newcomers.yml`, and their offers."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

import knowledge
from core.database import session_scope
from core.settings import get_settings
from knowledge import SearchFilters, SearchResult
from nlu.language import SUPPORTED_LANGUAGES

GUIDANCE_FILE = Path(__file__).parent / "guidance" / "newcomers.yml"
MIN_OFFERS = 3
MAX_OFFERS = 5


class GuidanceContentError(ValueError):
    """The guidance file is malformed; the message names the file, the step and the field."""


@dataclass(frozen=True)
class GuidanceStep:
    id: str
    title: dict[str, str]
    text: dict[str, str]
    items: tuple[str, ...] = ()
    search: str | None = None
    keywords: dict[str, tuple[str, ...]] | None = None
    needs_person: bool = False  # the city marks the step a case for its help desk

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title["en"]

    def text_in(self, language: str) -> str:
        return self.text.get(language) or self.text["en"]


def guidance_file() -> Path:
    """The guidance file in use: LEARNCITY_GUIDANCE_FILE, by default GUIDANCE_FILE."""
    return get_settings().learncity_guidance_file


def load_steps(path: Path | None = None) -> tuple[GuidanceStep, ...]:
    """The steps in file order, read again whenever the file changes (the staff console edits
    it while the action server runs); raises GuidanceContentError naming what is missing where."""
    path = path or guidance_file()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise GuidanceContentError(f"{path}: cannot read the guidance file ({error})") from error
    return _read_steps(path, stamp)


@functools.lru_cache(maxsize=8)
def _read_steps(path: Path, stamp: int) -> tuple[GuidanceStep, ...]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise GuidanceContentError(f"{path}: not valid YAML: {error}") from error
    steps = []
    for position, raw in enumerate(data.get("steps") or [], start=1):
        where = f"{path}: step {position} ({raw.get('id', '?')})"
        if not raw.get("id"):
            raise GuidanceContentError(f"{where}: field id is missing")
        for field in ("title", "text"):
            values = raw.get(field) or {}
            missing = [
                lang for lang in SUPPORTED_LANGUAGES if not str(values.get(lang, "")).strip()
            ]
            if missing:
                raise GuidanceContentError(f"{where}: field {field} lacks {', '.join(missing)}")
        steps.append(
            GuidanceStep(
                id=str(raw["id"]),
                title={k: str(v).strip() for k, v in raw["title"].items()},
                text={k: str(v).strip() for k, v in raw["text"].items()},
                items=tuple(raw.get("items") or ()),
                search=raw.get("search"),
                keywords={
                    k: tuple(str(w).lower() for w in v)
                    for k, v in (raw.get("keywords") or {}).items()
                },
                needs_person=bool(raw.get("needs_person", False)),
            )
        )
    if not steps:
        raise GuidanceContentError(f"{path}: no steps")
    return tuple(steps)


def find_step(topic: str | None, text: str | None) -> GuidanceStep | None:
    """The step a button (its id as topic) or a typed question ("my diploma…") asks for."""
    steps = load_steps()
    for step in steps:
        if topic and topic == step.id:
            return step
    said = " ".join(part for part in (topic, text) if part and not part.startswith("/")).lower()
    if not said:
        return None
    for step in steps:
        for words in (step.keywords or {}).values():
            if any(word in said for word in words):
                return step
    return None


def offers_for(step: GuidanceStep, database_url: str | None = None) -> list[SearchResult]:
    """The catalog offers behind a step: its listed items, topped up by its search."""
    with session_scope(database_url) as session:
        items = knowledge.items_by_ids(session, list(step.items))
    offers = [SearchResult(item=item, score=1.0) for item in items]
    if len(offers) < MIN_OFFERS and step.search:
        seen = {offer.item.id for offer in offers}
        found = knowledge.search(step.search, limit=MAX_OFFERS, filters=SearchFilters())
        offers += [r for r in found if r.matched and r.item.id not in seen]
    return offers[:MAX_OFFERS]


def step_payload(step: GuidanceStep) -> str:
    return f'/migrant_guidance{{"topic": "{step.id}"}}'
