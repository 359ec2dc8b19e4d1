"""How often the catalog importer tells a CSV's legacy encoding right, refuses, or errs.

    .venv/bin/python -m bench.encoding_detection

Small CSV files (1, 3 and 10 rows) of real sentences are encoded as a city's export would be —
Chinese in GB18030, Russian and Ukrainian in Windows-1251, French and Spanish in Windows-1252 —
and read by `knowledge.importers.text_files.decode_text`. A refusal is safe (the operator is
asked for `--encoding`); a wrong encoding is not. The sentences are the NLU examples
(nlu/data/nlu/*.yml, the detector's rules were written looking at them: an upper bound) and
the sample city's Chinese course texts (knowledge/sample_city/courses.jsonld, not looked at).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import yaml

from core.settings import REPOSITORY_ROOT
from knowledge.importers.text_files import UndecodableText, decode_text

ENCODINGS = {"zh": "gb18030", "ru": "windows-1251", "uk": "windows-1251",
             "fr": "windows-1252", "es": "windows-1252"}  # fmt: skip
_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def nlu_sentences() -> dict[str, list[str]]:
    """Each language's NLU examples that use letters outside ASCII (else any encoding fits)."""
    sentences: dict[str, list[str]] = {}
    for language in ENCODINGS:
        path = REPOSITORY_ROOT / "nlu" / "data" / "nlu" / f"{language}.yml"
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                text = _MARKUP.sub(r"\1", line.strip().removeprefix("- ")).strip()
                if any(ord(char) > 127 for char in text):
                    sentences.setdefault(language, []).append(text)
    return sentences


def sample_city_chinese() -> list[str]:
    """The sample city's Chinese course names and descriptions."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)
        elif isinstance(value, str) and re.search(r"[\u4e00-\u9fff]", value):
            found.append(value)

    walk(json.loads(Path(REPOSITORY_ROOT / "knowledge/sample_city/courses.jsonld").read_text()))
    return found


def tally(sentences: list[str], encoding: str, rows: int, files: int = 200) -> Counter[str]:
    """right / refused / wrong:<encoding> over `files` random files of `rows` rows."""
    chance = random.Random(7)
    counts: Counter[str] = Counter()
    for _ in range(files):
        chosen = chance.sample(sentences, min(rows, len(sentences)))
        content = "id,type,name\n" + "".join(
            f'x{i},course,"{text}"\n' for i, text in enumerate(chosen)
        )
        try:
            data = content.encode(encoding)
        except UnicodeEncodeError:
            counts["not encodable"] += 1
            continue
        try:
            _text, found = decode_text(data)
        except UndecodableText:
            counts["refused"] += 1
            continue
        counts["right" if found == encoding else f"wrong:{found}"] += 1
    return counts


def main() -> None:
    sets = {f"nlu {language}": (texts, ENCODINGS[language])
            for language, texts in nlu_sentences().items()}  # fmt: skip
    sets["sample city zh"] = (sample_city_chinese(), "gb18030")
    print(f"{'sentences':16} {'rows':>4}  right  refused  wrong  (of files it can encode)")
    for name, (texts, encoding) in sets.items():
        for rows in (1, 3, 10):
            counts = tally(texts, encoding, rows)
            wrong = sum(n for key, n in counts.items() if key.startswith("wrong"))
            total = sum(counts.values()) - counts["not encodable"] or 1
            print(
                f"{name:16} {rows:>4}  {counts['right'] / total:5.0%}  "
                f"{counts['refused'] / total:7.0%}  {wrong / total:5.0%}"
            )


if __name__ == "__main__":
    main()
