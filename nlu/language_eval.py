"""Language identification evaluation: accuracy per language on short and longer utterances.

Run `python -m nlu.language_eval` (add `--split dev` while tuning `nlu/language.py`; the
held-out split is for the report only). It reads public Tatoeba sentences
(`tests/nlu/language/tatoeba_sample.tsv`, CC BY 2.0 FR) and the project's own held-out NLU
utterances (`tests/nlu/heldout/*.yml`, labelled by file), prints a Markdown report and writes
it to `<data dir>/reports/language-identification.md`.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nlu.language import SUPPORTED_LANGUAGES, detect_language, load_models
from nlu.nlu_data import HELDOUT_DIR, REPOSITORY_ROOT, read_examples

TATOEBA_SAMPLE = REPOSITORY_ROOT / "tests" / "nlu" / "language" / "tatoeba_sample.tsv"
SHORT_WORDS = 4  # 1-4 words is "short", 5 or more "long"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+")
_UNKNOWN = "unknown"
# Portuguese is not served: reading it as unknown (keep the conversation's language) or as
# Spanish, the nearest language we serve, is right; English or French is wrong.
_ACCEPTED = {"pt": {_UNKNOWN, "es"}}


@dataclass(frozen=True)
class Labelled:
    """One utterance and the language it is written in."""

    text: str
    language: str


def word_count(text: str) -> int:
    """Words in `text`; Chinese, written without spaces, counts one word per two characters."""
    han = len(_HAN.findall(text))
    other = len(_WORD.findall(_HAN.sub(" ", text)))
    return other + math.ceil(han / 2)


def length_class(text: str) -> str:
    """`short` (1-4 words) or `long` (5+ words)."""
    return "short" if word_count(text) <= SHORT_WORDS else "long"


def read_tatoeba_sample(split: str, path: Path = TATOEBA_SAMPLE) -> list[Labelled]:
    """Sentences of one split (`dev` or `heldout`) of the committed Tatoeba sample."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Labelled(row["text"], row["language"]) for row in rows if row["split"] == split]


def read_project_heldout(folder: Path = HELDOUT_DIR) -> list[Labelled]:
    """The project's held-out NLU utterances, each labelled with its file's language."""
    return [
        Labelled(example.text, path.stem)
        for path in sorted(folder.glob("*.yml"))
        if path.stem in SUPPORTED_LANGUAGES
        for example in read_examples(path, path.stem)
    ]


def evaluate(utterances: Iterable[Labelled]) -> dict:
    """Accuracy per language and length, the confusion counts, and the time per message."""
    correct: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    started = time.perf_counter()
    for utterance in utterances:
        found = detect_language(utterance.text) or _UNKNOWN
        key = (utterance.language, length_class(utterance.text))
        total[key] += 1
        correct[key] += found in _ACCEPTED.get(utterance.language, {utterance.language})
        confusion[utterance.language][found] += 1
    count = sum(total.values())
    return {
        "correct": correct,
        "total": total,
        "confusion": confusion,
        "ms_per_message": 1000 * (time.perf_counter() - started) / max(count, 1),
    }


def render(title: str, result: dict) -> str:
    """A Markdown table: accuracy (and count) per language on short and long utterances."""
    correct, total = result["correct"], result["total"]
    languages = sorted({language for language, _ in total}, key=_language_order)
    lines = [
        f"## {title}",
        "",
        "| language | 1-4 words | n | 5+ words | n |",
        "| --- | --- | --- | --- | --- |",
    ]
    for language in languages:
        cells = []
        for length in ("short", "long"):
            n = total[(language, length)]
            cells += [f"{correct[(language, length)] / n:.3f}" if n else "-", str(n)]
        lines.append(f"| {language} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "pt counts as right when read as unknown or es. "
        f"{result['ms_per_message']:.2f} ms a message (warm).",
        "",
    ]
    return "\n".join(lines)


def render_confusions(result: dict) -> str:
    """How uk/ru and es/fr/pt are read (`unknown`: the conversation keeps its language)."""
    lines = ["### Confusions", "", "| written | read as |", "| --- | --- |"]
    for language in ("uk", "ru", "es", "fr", "pt"):
        readings = result["confusion"].get(language)
        if readings:
            shown = ", ".join(f"{found} {count}" for found, count in readings.most_common())
            lines.append(f"| {language} | {shown} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("heldout", "dev"), default="heldout")
    parser.add_argument("--out", type=Path, help="report folder; default: <data dir>/reports")
    args = parser.parse_args(argv)
    load_models()
    tatoeba = evaluate(read_tatoeba_sample(args.split))
    project = evaluate(read_project_heldout())
    report = "\n".join(
        [
            "# Language identification",
            "",
            render(f"Tatoeba sample, {args.split} split (CC BY 2.0 FR)", tatoeba),
            render_confusions(tatoeba),
            render("Project held-out NLU utterances (tests/nlu/heldout)", project),
            render_confusions(project),
        ]
    )
    out = args.out or _default_reports()
    out.mkdir(parents=True, exist_ok=True)
    (out / "language-identification.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


def _default_reports() -> Path:
    from core.settings import get_settings

    return get_settings().data_dir / "reports"


def _language_order(language: str) -> tuple[int, str]:
    order = (*SUPPORTED_LANGUAGES, "pt")
    return (order.index(language) if language in order else len(order), language)


if __name__ == "__main__":
    raise SystemExit(main())
