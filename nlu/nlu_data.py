"""Read Rasa NLU yaml files (training data and the held-out set) into plain examples."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
TRAINING_DIR = REPOSITORY_ROOT / "nlu" / "data" / "nlu"
HELDOUT_DIR = REPOSITORY_ROOT / "tests" / "nlu" / "heldout"
SYNONYMS_FILE = TRAINING_DIR / "synonyms.yml"

# [text](entity), [text](entity:value) or [text]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class Entity:
    """One annotated entity: its type, the words as written, and its value (normalised if given)."""

    entity: str
    text: str
    value: str


@dataclass
class Example:
    """One utterance with its intent and annotated entities, and where it came from."""

    text: str
    intent: str
    language: str
    source: str
    entities: list[Entity] = field(default_factory=list)


class NluDataError(ValueError):
    """A data file is malformed; the message names the file and the item at fault."""


def parse_annotated(line: str) -> tuple[str, list[Entity]]:
    """Split `"学[陶艺](topic)"` into plain text `"学陶艺"` and its entities."""
    entities: list[Entity] = []
    pieces: list[str] = []
    position = 0
    for match in _ANNOTATION.finditer(line):
        pieces.append(line[position : match.start()])
        text = match.group("text")
        if match.group("json"):
            spec = json.loads(match.group("json"))
            name, value = spec["entity"], str(spec.get("value", text))
        else:
            name, _, value = match.group("short").partition(":")
            value = value or text
        entities.append(Entity(name, text, value))
        pieces.append(text)
        position = match.end()
    pieces.append(line[position:])
    return "".join(pieces), entities


def read_examples(path: Path, language: str | None = None) -> list[Example]:
    """Every intent example in one NLU yaml file; language defaults to the file's stem."""
    language = language or path.stem
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise NluDataError(f"{path}: not valid yaml: {error}") from error
    examples: list[Example] = []
    for position, item in enumerate(document.get("nlu") or [], start=1):
        if "intent" not in item:
            continue
        if not isinstance(item.get("examples"), str):
            raise NluDataError(f"{path}: item {position} (intent {item['intent']}) has no examples")
        for raw in item["examples"].splitlines():
            raw = raw.strip()
            if not raw.startswith("- "):
                continue
            text, entities = parse_annotated(raw[2:].strip())
            examples.append(Example(text, item["intent"], language, str(path), entities))
    return examples


def read_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, str]:
    """Lower-cased spoken form → normalised value, from the synonyms file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    mapping: dict[str, str] = {}
    for item in document.get("nlu") or []:
        if "synonym" not in item:
            continue
        for raw in item["examples"].splitlines():
            raw = raw.strip()
            if raw.startswith("- "):
                mapping[raw[2:].strip().lower()] = item["synonym"]
    return mapping


def language_files(folder: Path) -> list[Path]:
    """The per-language files of a folder (`zh.yml`, `en.yml`, ...), not synonyms or lookups."""
    return sorted(p for p in folder.glob("*.yml") if len(p.stem) == 2)
